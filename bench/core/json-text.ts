// JSON files a user writes (scenarios, suites, target files, profiles): a syntax error says where,
// as line and column, not as the byte position JSON.parse reports.

/** JSON.parse, or an Error whose message is "line L, column C: <what JSON.parse said>". */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(locate(text, (error as Error).message));
  }
}

/** "Unexpected token } in JSON at position 42" → "line 3, column 5: Unexpected token } ...". */
export function locate(text: string, message: string): string {
  const position = /at position (\d+)/.exec(message)?.[1];
  const at =
    position === undefined
      ? /end of JSON input/i.test(message)
        ? text.length
        : undefined
      : Number(position);
  if (at === undefined) return message;
  const before = text.slice(0, at).split("\n");
  const line = before.length;
  const column = (before[before.length - 1] ?? "").length + 1;
  return `line ${line}, column ${column}: ${message.replace(/ in JSON at position \d+.*$/, "")}`;
}
