// Nothing a user measured is overwritten: by a later run, a run started at the same moment on the
// same folder, or a later compare or report. Files are created exclusively (the `wx` flag: the
// kernel refuses a file that exists, so two processes racing for one name cannot both win).

import { existsSync, statSync, writeFileSync } from "node:fs";
import { join, parse } from "node:path";
import { UsageError } from "../errors.ts";

const exists = (error: unknown) => (error as NodeJS.ErrnoException).code === "EEXIST";

/** Write `path`, which must not exist; a clear error naming `flag` if it does. */
export function writeNewFile(path: string, content: string, flag: string): void {
  try {
    writeFileSync(path, content, { flag: "wx" });
  } catch (error) {
    if (!exists(error)) throw error;
    throw new UsageError(`${flag} ${path}: the file exists; results are never overwritten, name a new file`);
  }
}

/**
 * Write `name` in `dir`, or, where a file of that name exists, the first free `stem-2.ext`,
 * `stem-3.ext`, ...; returns the path written.
 */
export function writeFreshFile(dir: string, name: string, content: string): string {
  const { name: stem, ext } = parse(name);
  for (let n = 1; ; n++) {
    const path = join(dir, n === 1 ? name : `${stem}-${n}${ext}`);
    try {
      writeFileSync(path, content, { flag: "wx" });
      return path;
    } catch (error) {
      if (!exists(error)) throw error;
    }
  }
}

/** The newest of `name`, `stem-2.ext`, ... in `dir` (as writeFreshFile names them); undefined: none. */
export function newestOf(dir: string, name: string): string | undefined {
  const { name: stem, ext } = parse(name);
  let newest: string | undefined;
  for (let n = 1; ; n++) {
    const path = join(dir, n === 1 ? name : `${stem}-${n}${ext}`);
    if (!existsSync(path)) return newest;
    newest = path;
  }
}

/** Is `path` an existing directory (false: absent; a UsageError naming `flag`: something else)? */
export function isDirectory(path: string, flag: string): boolean {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    return false;
  }
  if (!stat.isDirectory())
    throw new UsageError(`${flag} ${path}: a file of that name exists; name a new folder for the results`);
  return true;
}
