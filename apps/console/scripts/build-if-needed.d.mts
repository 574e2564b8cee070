export function consoleIsStale(): boolean;
export function buildConsoleIfNeeded(options?: { quiet?: boolean }): boolean;
