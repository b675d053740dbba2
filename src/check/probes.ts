// Network probes of `asya-webhook check` that need no Kubernetes client: the TLS handshake verified
// against a caBundle, and the same verification of a certificate read from a Secret.
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { TlsProbe } from './checks.js';

/** TLS handshake with the webhook; the chain and the name are verified against the caBundle only. */
export function tlsProbe(host: string, port: number, caPem: string, timeoutMs = 5000): Promise<TlsProbe & { code?: string }> {
  return new Promise((resolve) => {
    const s = tls.connect({ host, port, ca: caPem, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    let settled = false;
    const done = (p: TlsProbe & { code?: string }) => {
      if (settled) return;
      settled = true;
      s.destroy();
      resolve(p);
    };
    s.setTimeout(timeoutMs, () => done({ error: `no TLS handshake within ${timeoutMs / 1000}s` }));
    s.once('secureConnect', () => {
      const cert = s.getPeerCertificate();
      done({
        authorized: s.authorized,
        authorizationError: s.authorizationError ? String(s.authorizationError) : undefined,
        validTo: cert?.valid_to ? new Date(cert.valid_to) : undefined,
        subject: cert?.subject?.CN ? `CN=${cert.subject.CN}` : undefined,
      });
    });
    s.once('error', (e: NodeJS.ErrnoException) => done({ error: `${e.code ?? ''} ${e.message}`.trim(), code: e.code }));
  });
}

/** Verifies a certificate read from a Secret against the caBundle, as a TLS client would (chain of one, name). */
export function verifyCertificatePem(certPem: string, caPem: string, host: string, now: Date): TlsProbe {
  const cert = new X509Certificate(certPem);
  const validTo = new Date(cert.validTo);
  let issuedByCa = false;
  for (const ca of splitPem(caPem)) {
    try {
      const c = new X509Certificate(ca);
      if (cert.checkIssued(c) && cert.verify(c.publicKey)) issuedByCa = true;
    } catch {
      // not a certificate: ignore
    }
  }
  const nameOk = net.isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
  const problems = [
    ...(issuedByCa ? [] : ['not signed by the caBundle']),
    ...(nameOk ? [] : [`not valid for ${host}`]),
    ...(new Date(cert.validFrom) > now ? ['not yet valid'] : []),
  ];
  return { authorized: problems.length === 0, authorizationError: problems.join(', ') || undefined, validTo, subject: cert.subject.split('\n').find((l) => l.startsWith('CN=')) };
}

const splitPem = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

