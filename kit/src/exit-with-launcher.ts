/**
 * Preloaded (`node --import`) into every process the launcher (`processes.ts`) starts: when the
 * launcher goes away without stopping its children (killed, or its npm wrapper killed), the IPC
 * channel to it closes and the child stops itself as on SIGTERM, so no service or simulator is
 * left running on its port.
 */
if (process.send) {
  // The channel is only there to notice the launcher's end; it must not keep the child alive.
  process.channel?.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
