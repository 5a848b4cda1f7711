// Ctrl-C and SIGTERM for the one-job commands (import, export, stats, checkpoint, compact, verify):
// the first signal asks the job to stop at its next step, so it still closes the engine and
// releases the data dir's lock on the way out; a second one quits at once (the next writer then
// takes over the lock of the dead process). Servers (serve, mcp) handle signals themselves.

const interruption = new AbortController();

/** Aborted once SIGINT or SIGTERM has arrived: long loops check it between steps. */
export const interrupted: AbortSignal = interruption.signal;

/** The exit code of a command stopped by a signal (128 + SIGINT's number, as shells report it). */
export const interruptedExitCode = 130;

export function stopOnSignals(command: string): void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (interruption.signal.aborted) process.exit(interruptedExitCode);
    console.error(`mnemo ${command}: ${signal}: stopping after the current step and releasing the data dir (again to quit at once)`);
    interruption.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
