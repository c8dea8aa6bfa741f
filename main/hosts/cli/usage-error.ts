// A mistake in the command line: the CLI prints it with a hint and exits 2. Its own module so
// the entry point can name it without loading the plugin catalog.
export class UsageError extends Error {}
