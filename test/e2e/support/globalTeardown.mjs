// Stops the processes globalSetup started (by their PIDs), also when tests failed.
export default async function globalTeardown() {
  await globalThis.__ASYA_CONTROL_PLANE__?.stop();
}
