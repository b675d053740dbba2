// The sidecar's environment as upstream's sidecar reads it (internal/config/config.go): what reaches it for
// RabbitMQ through ASYA_RABBITMQ_URL, and the $(VAR) references the kubelet expands in it.
import { describe, expect, test } from '@jest/globals';
import { defaultActor } from '../../src/api/validate.js';
import type { EnvVar } from '../../src/api/schema.js';
import { sidecarEnv } from '../../src/injection/inject.js';
import { makeActor, makeConfig } from '../support/fixtures.js';

function envOf(rabbit: Record<string, unknown>, sidecarUserEnv?: EnvVar[]): EnvVar[] {
  const config = makeConfig({ rabbit: { host: 'rabbit.messaging', ...rabbit } });
  const actor = defaultActor(makeActor('echo', sidecarUserEnv ? { sidecar: { env: sidecarUserEnv } } : {}));
  return sidecarEnv('echo', 'team-a', actor, config.transports.rabbitmq!, config);
}

/** What the kubelet does with the env list: $(VAR) expands to an earlier variable's value; unknown stays. */
function expand(env: EnvVar[], secrets: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    const raw = e.value ?? secrets[(e.valueFrom as { secretKeyRef: { key: string } }).secretKeyRef.key] ?? '';
    out[e.name] = raw.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string) => out[name] ?? m);
  }
  return out;
}

const value = (env: EnvVar[], name: string) => env.find((e) => e.name === name);

describe('RabbitMQ connection of the sidecar', () => {
  test('vhost and TLS reach it through ASYA_RABBITMQ_URL, the password only through its Secret', () => {
    const env = envOf({ vhost: 'team/flows', tls: true, port: 5671 });
    expect(JSON.stringify(env)).not.toContain('s3cret');
    const url = new URL(expand(env, { password: 's3cret' }).ASYA_RABBITMQ_URL!);
    expect(url.protocol).toBe('amqps:');
    expect(url.hostname).toBe('rabbit.messaging');
    expect(url.port).toBe('5671');
    expect(url.username).toBe('guest');
    expect(url.password).toBe('s3cret');
    // amqp091-go takes the path after the first "/" and unescapes it.
    expect(decodeURIComponent(url.pathname.slice(1))).toBe('team/flows');
  });

  test('the default vhost / is an empty path (amqp091-go then uses /)', () => {
    const url = expand(envOf({}), { password: 'p' }).ASYA_RABBITMQ_URL!;
    expect(url).toBe('amqp://guest:p@rabbit.messaging:5672/');
  });

  test('every sidecar gets the exchange, the default being the sidecar\'s own', () => {
    expect(value(envOf({}), 'ASYA_RABBITMQ_EXCHANGE')).toEqual({ name: 'ASYA_RABBITMQ_EXCHANGE', value: 'asya' });
    expect(value(envOf({ exchange: 'flows' }), 'ASYA_RABBITMQ_EXCHANGE')).toEqual({ name: 'ASYA_RABBITMQ_EXCHANGE', value: 'flows' });
  });

  test('a usernameSecretRef reaches the sidecar as a secretKeyRef, and the URL uses it', () => {
    const env = envOf({ usernameSecretRef: { name: 'creds', key: 'user' } });
    expect(value(env, 'ASYA_RABBITMQ_USERNAME')).toEqual({ name: 'ASYA_RABBITMQ_USERNAME', valueFrom: { secretKeyRef: { name: 'creds', key: 'user' } } });
    expect(expand(env, { user: 'flows', password: 'p' }).ASYA_RABBITMQ_URL).toBe('amqp://flows:p@rabbit.messaging:5672/');
  });

  test("without a password Secret the URL has the sidecar's default password guest, not an unexpandable reference", () => {
    const env = envOf({ passwordSecretRef: undefined });
    expect(value(env, 'ASYA_RABBITMQ_PASSWORD')).toBeUndefined();
    expect(expand(env, {}).ASYA_RABBITMQ_URL).toBe('amqp://guest:guest@rabbit.messaging:5672/');
  });

  test("the user's own variables come before the URL, so it can refer to them; the user's own URL wins", () => {
    const own = envOf({ passwordSecretRef: undefined }, [{ name: 'ASYA_RABBITMQ_PASSWORD', valueFrom: { secretKeyRef: { name: 'mine', key: 'pw' } } }]);
    expect(own.map((e) => e.name).slice(-2)).toEqual(['ASYA_RABBITMQ_PASSWORD', 'ASYA_RABBITMQ_URL']);
    expect(expand(own, { pw: 'x' }).ASYA_RABBITMQ_URL).toBe('amqp://guest:x@rabbit.messaging:5672/');
    const url = envOf({}, [{ name: 'ASYA_RABBITMQ_URL', value: 'amqp://elsewhere/' }]);
    expect(url.filter((e) => e.name === 'ASYA_RABBITMQ_URL')).toEqual([{ name: 'ASYA_RABBITMQ_URL', value: 'amqp://elsewhere/' }]);
  });

  test('nothing the sidecar does not read: no socket path or size, no vhost variable', () => {
    const names = envOf({}).map((e) => e.name);
    for (const n of ['ASYA_SOCKET_PATH', 'ASYA_SOCKET_MAX_SIZE', 'ASYA_RABBITMQ_VHOST', 'ASYA_QUEUE_URL']) expect(names).not.toContain(n);
  });
});

describe('the sidecar container', () => {
  test("an actor that sets only spec.sidecar.image keeps the operator's imagePullPolicy (no actor-side default overrides it)", async () => {
    const { injectPod } = await import('../../src/injection/inject.js');
    const config = makeConfig();
    config.sidecar.imagePullPolicy = 'Always';
    const actor = defaultActor(makeActor('echo', { sidecar: { image: 'mirror.example/asya-sidecar:1' } }));
    const pod = { metadata: { name: 'p', namespace: 'default', labels: { 'asya.sh/actor': 'echo' } }, spec: { containers: [{ name: 'asya-runtime', image: 'h:1' }] } };
    const r = injectPod({ pod, namespace: 'default', actor, config });
    if (r.outcome !== 'injected') throw new Error(r.outcome);
    const sidecar = (r.pod.spec?.containers ?? []).find((c) => c.name === 'asya-sidecar');
    expect(sidecar).toMatchObject({ image: 'mirror.example/asya-sidecar:1', imagePullPolicy: 'Always' });
  });
});
