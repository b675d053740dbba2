// admission.k8s.io/v1 AdmissionReview: parsing a request body and building responses (pure).
import type { Operation } from '../injection/patchBuilder.js';

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
  userInfo?: { username?: string };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

export class BadReviewError extends Error {
  override name = 'BadReviewError';
}

const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

/** Checks the envelope of an AdmissionReview; throws BadReviewError with the reason when it is not one. */
export function parseReview(body: unknown): AdmissionRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new BadReviewError('body must be a JSON object (an AdmissionReview)');
  const b = body as Record<string, unknown>;
  if (b.kind !== 'AdmissionReview') throw new BadReviewError(`kind must be AdmissionReview, got ${JSON.stringify(b.kind ?? null)}`);
  if (b.apiVersion !== 'admission.k8s.io/v1') throw new BadReviewError(`apiVersion must be admission.k8s.io/v1, got ${JSON.stringify(b.apiVersion ?? null)}`);
  const r = b.request;
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw new BadReviewError('request is missing');
  const req = r as Record<string, unknown>;
  if (typeof req.uid !== 'string' || req.uid === '') throw new BadReviewError('request.uid is missing');
  if (typeof req.operation !== 'string' || !OPERATIONS.has(req.operation)) throw new BadReviewError('request.operation is missing or unknown');
  const kind = req.kind as Record<string, unknown> | undefined;
  if (!kind || typeof kind !== 'object' || typeof kind.kind !== 'string') throw new BadReviewError('request.kind is missing');
  if (req.namespace !== undefined && typeof req.namespace !== 'string') throw new BadReviewError('request.namespace must be a string');
  return req as unknown as AdmissionRequest;
}

function review(response: AdmissionResponse): AdmissionReview {
  if (response.warnings && response.warnings.length === 0) delete response.warnings;
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

export function allow(uid: string, warnings: string[] = []): AdmissionReview {
  return review({ uid, allowed: true, warnings });
}

export function patched(uid: string, patch: Operation[], warnings: string[] = []): AdmissionReview {
  if (patch.length === 0) return allow(uid, warnings);
  return review({ uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64'), warnings });
}

/** A refusal; kubectl prints `message` after 'admission webhook "..." denied the request: '. */
export function deny(uid: string, message: string, code = 400, reason = 'Invalid', warnings: string[] = []): AdmissionReview {
  return review({ uid, allowed: false, status: { code, reason, message }, warnings });
}
