// Stops what globalSetup started (by the PIDs and paths it recorded), node first, also when tests failed.
export default async function globalTeardown() {
  try {
    await globalThis.__ASYA_NODE__?.stop();
  } finally {
    await globalThis.__ASYA_CONTROL_PLANE__?.stop();
  }
}
