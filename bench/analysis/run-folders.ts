// A run folder read back for the report: run.json, the HDR histograms of its .hlog files (the report
// draws distributions from these, never from summary percentiles), the timeseries and scenario
// tables (CSV). The report is a function of the folder alone, so any run, old or merged, can be
// drawn, and several overlaid.

import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { HistogramLogReader } from "hdr-histogram-js";
import { encodeHistogram, mergeEncoded, tagSafe } from "../core/metrics/histograms.ts";
import { type RunRecord, readRunRecord } from "../core/run-record.ts";

export interface LoadedRun {
  dir: string;
  /** How the report names this run (the folder's name). */
  label: string;
  record: RunRecord;
  /** scenario → kind ("latency", "connect", ...) → target → repeat → encoded histogram (merged over workers). */
  histograms: Record<string, Record<string, Record<string, Record<number, string>>>>;
  /** scenario → rows of timeseries-<scenario>.csv. */
  timeseries: Record<string, Record<string, string>[]>;
  /** scenario → rows of deliveries-<scenario>.csv (absent in runs made before it was written). */
  deliveries: Record<string, Record<string, string>[]>;
  /** scenario → rows of <scenario>.csv (memory-sweep steps). */
  tables: Record<string, Record<string, string>[]>;
}

/** RFC 4180 CSV (what csv-stringify writes): rows of header → value. */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else if (ch !== "\r") field += ch;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  const [head, ...body] = rows;
  if (!head) return [];
  return body.map((cells) => Object.fromEntries(head.map((h, i) => [h, cells[i] ?? ""])));
}

/** The histograms of one .hlog per kind, target and repeat (tags: kind.target.rN; an agent's own part is skipped: the merged one is there). */
function readHlog(text: string, targets: string[]): Record<string, Record<string, Record<number, string>>> {
  const byTag = new Map(targets.map((t) => [tagSafe(t), t]));
  const parts = new Map<string, string[]>();
  const reader = new HistogramLogReader(text);
  for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
    const m = /^([a-z]+)\.(.*)\.r(\d+)$/.exec(h.tag ?? "");
    if (!m) continue;
    const key = `${m[1]}\u0000${byTag.get(m[2] as string) ?? (m[2] as string)}\u0000${m[3]}`;
    parts.set(key, [...(parts.get(key) ?? []), encodeHistogram(h)]);
  }
  const out: Record<string, Record<string, Record<number, string>>> = {};
  for (const [key, encoded] of parts) {
    const [kind, target, repeat] = key.split("\u0000") as [string, string, string];
    out[kind] ??= {};
    out[kind][target] ??= {};
    out[kind][target][Number(repeat)] = encodeHistogram(mergeEncoded(encoded));
  }
  return out;
}

export function loadRunFolder(dir: string): LoadedRun {
  const record = readRunRecord(dir);
  const scenarios = [...new Set(record.results.map((r) => r.scenario))];
  const read = (file: string) =>
    existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8") : undefined;
  const histograms: LoadedRun["histograms"] = {};
  const timeseries: LoadedRun["timeseries"] = {};
  const tables: LoadedRun["tables"] = {};
  const deliveries: LoadedRun["deliveries"] = {};
  for (const s of scenarios) {
    const hlog = read(`${s}.hlog`);
    if (hlog) histograms[s] = readHlog(hlog, record.targets ?? []);
    const ts = read(`timeseries-${s}.csv`);
    if (ts) timeseries[s] = parseCsv(ts);
    const d = read(`deliveries-${s}.csv`);
    if (d) deliveries[s] = parseCsv(d);
    const table = read(`${s}.csv`);
    if (table) tables[s] = parseCsv(table);
  }
  return { dir, label: basename(dir), record, histograms, timeseries, deliveries, tables };
}

/** Every run folder named, in order; a folder that is not one is a usage error from readRunRecord. */
export function loadRunFolders(dirs: string[]): LoadedRun[] {
  return dirs.map(loadRunFolder);
}
