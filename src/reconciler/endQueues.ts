// The end queues asya-happy-end and asya-error-end on every enabled transport, whatever actors exist: a sidecar
// whose target queue is missing requeues the message at once, forever (ADR 0001). The controller runs this when
// it starts leading and every 30 s.
import { END_ACTORS, queueNameFor } from '../names.js';
import type { QueueSpec } from '../transports/types.js';
import { errMessage } from './errors.js';
import type { ReconcileKit } from './kit.js';

/** Idempotent; throws the first broker error after trying every transport. */
export async function ensureEndQueues(kit: ReconcileKit): Promise<void> {
  let first: unknown;
  for (const transport of kit.deps.transports.values()) {
    for (const actorName of END_ACTORS) {
      const spec: QueueSpec = { name: queueNameFor(actorName), actorName, actorNamespace: '' };
      const key = `${transport.name}/${spec.name}`;
      try {
        // Declared in full once per process (exchange binding included); after that a passive check, and a
        // declaration only when the queue is gone (a broker that lost its state, a queue deleted by hand).
        if (kit.endQueuesDeclared.has(key) && (await transport.queueExists(spec))) continue;
        if (kit.endQueuesDeclared.has(key)) kit.logger.warn('end queue disappeared, declaring it again', { transport: transport.name, queue: spec.name });
        await transport.ensureQueue(spec);
        kit.endQueuesDeclared.add(key);
      } catch (err) {
        kit.logger.warn('cannot declare an end queue', { transport: transport.name, queue: spec.name, error: errMessage(err) });
        first ??= err;
      }
    }
  }
  if (first !== undefined) throw first;
}
