// Schema pieces of Kubernetes' own types, shared by the AsyncActor API (src/api) and the operator configuration
// (src/config), which both describe sidecar resources, pull policies and env: one definition, and neither of
// those folders imports the other for it. They keep the result a valid structural CRD schema.
import { Type, type Static, type TSchema, type SchemaOptions } from '@sinclair/typebox';

export function stringEnum<T extends string>(values: readonly T[], options: SchemaOptions = {}): TSchema & { static: T } {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
}

/** A Kubernetes quantity ("500m", "1Gi", 2). */
export const Quantity = Type.Unsafe<string | number>({
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
  description: 'A Kubernetes quantity, for example 500m, 256Mi or 2.',
});

/** Largest value of an int32, the type Kubernetes and KEDA store replica counts and intervals in. */
export const INT32_MAX = 2_147_483_647;

/** An integer Kubernetes or KEDA keeps as an int32: a larger one would be refused later, by them. */
export function int32(options: SchemaOptions & { minimum?: number } = {}) {
  return Type.Integer({ maximum: INT32_MAX, ...options });
}

/** A map from string keys to `value` (CRDs take additionalProperties, not patternProperties). */
export function mapOf<T extends TSchema>(value: T, options: SchemaOptions = {}): TSchema & { static: Record<string, Static<T>> } {
  return Type.Unsafe<Record<string, Static<T>>>({ type: 'object', additionalProperties: value, ...options });
}

/** An object whose content Kubernetes keeps as is (validated by our own rules, not by the CRD). */
export function opaqueObject(description: string): TSchema & { static: Record<string, unknown> } {
  return Type.Unsafe<Record<string, unknown>>({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description });
}

export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;

export const ResourceRequirementsSchema = Type.Object(
  {
    limits: Type.Optional(mapOf(Quantity, { description: 'Maximum amount of compute resources allowed.' })),
    requests: Type.Optional(mapOf(Quantity, { description: 'Minimum amount of compute resources required.' })),
  },
  { description: 'Compute resources of the injected sidecar container (core/v1 ResourceRequirements).' },
);

export const EnvVarSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Name of the environment variable.' }),
    value: Type.Optional(Type.String({ description: 'Literal value.' })),
    valueFrom: Type.Optional(opaqueObject('Source of the value (core/v1 EnvVarSource): secretKeyRef, configMapKeyRef, fieldRef...')),
  },
  { description: 'An environment variable (core/v1 EnvVar).' },
);

export type EnvVar = Static<typeof EnvVarSchema>;
export type ResourceRequirements = Static<typeof ResourceRequirementsSchema>;
