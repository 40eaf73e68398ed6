// Opens a generated report.html in headless Chromium (Debian's chromium, driven by playwright-core;
// nothing downloaded) and reads back what a person would see: console errors, how many charts drew
// something (canvas pixels that are not blank), the figures in the tables, and a screenshot.

import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const chromiumMissing = (): string | undefined =>
  existsSync(CHROMIUM)
    ? undefined
    : `${CHROMIUM} not found: run bash scripts/install-peers.sh (Debian package chromium)`;

export interface PageReading {
  errors: string[];
  /** Per chart: its title and whether its canvas has pixels that differ from its first pixel. */
  charts: { title: string; drawn: boolean }[];
  /** Figures in the tables: series, metric and the value the page shows (data-value). */
  figures: { series: string; metric: string; value: number }[];
}

export async function readReport(file: string, screenshot?: string, dark = false): Promise<PageReading> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
  try {
    const page = await browser.newPage({
      viewport: { width: 1280, height: 900 },
      colorScheme: dark ? "dark" : "light",
    });
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    // Offline: any request that leaves the file is an error.
    await page.route(/^(?!file:|data:|blob:)/, (route) => {
      errors.push(`network request: ${route.request().url()}`);
      return route.abort();
    });
    await page.goto(`file://${file}`);
    await page.waitForFunction(() => document.body.dataset.chartsDrawn !== undefined, undefined, {
      timeout: 10_000,
    });
    const charts = await page.$$eval(".chart", (boxes) =>
      boxes.map((box) => {
        const canvas = box.querySelector("canvas");
        let drawn = false;
        if (canvas) {
          const ctx = canvas.getContext("2d");
          const { width, height } = canvas;
          const px = ctx?.getImageData(0, 0, width, height).data;
          if (px) {
            for (let i = 4; i < px.length; i += 4) {
              if (px[i] !== px[0] || px[i + 1] !== px[1] || px[i + 2] !== px[2] || px[i + 3] !== px[3]) {
                drawn = true;
                break;
              }
            }
          }
        }
        return { title: (box as HTMLElement).dataset.title ?? "", drawn };
      }),
    );
    const figures = await page.$$eval("td[data-value]", (cells) =>
      cells.map((c) => ({
        series: (c as HTMLElement).dataset.series ?? "",
        metric: (c as HTMLElement).dataset.metric ?? "",
        value: Number((c as HTMLElement).dataset.value),
      })),
    );
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { errors, charts, figures };
  } finally {
    await browser.close();
  }
}
