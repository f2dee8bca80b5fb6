/**
 * Preloaded (`node --import`) into every process `npm start` launches: when the launcher goes
 * away without stopping its children (killed, or its npm wrapper killed), the IPC channel to it
 * closes and the child stops itself as on SIGTERM, so no service or simulator is left running
 * on its port.
 */
if (process.send) {
  process.channel?.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
