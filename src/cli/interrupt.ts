/**
 * Ctrl-C (SIGINT) and SIGTERM as one AbortSignal for a whole run of psm, made by main() and
 * handed to every command. A command that can stop cleanly (a VM operation, an image build) asks
 * for `signal` and then ends with its ABORTED code instead of dying mid-write.
 *
 * The handlers are installed only when a command asks: a command that never looks at the signal
 * keeps Node's default, so Ctrl-C still ends it at once. After the first signal the handlers are
 * removed, so a second Ctrl-C ends psm even when an operation does not notice the abort.
 */
export class Interrupt {
  private controller: AbortController | undefined;
  private readonly onSignal = (): void => {
    this.removeHandlers();
    this.controller?.abort();
  };

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      process.on('SIGINT', this.onSignal);
      process.on('SIGTERM', this.onSignal);
    }
    return this.controller.signal;
  }

  /** Called by main() when the command is done. */
  dispose(): void {
    this.removeHandlers();
  }

  private removeHandlers(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}
