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
  /** The verdict banner of each run: pass or fail, and the exit code it states. */
  banners: { verdict: string; exitCode: string }[];
  /** How far the page is wider than the viewport (0: nothing sticks out, no sideways scrolling). */
  overflowPx: number;
  /** Elements outside a scrolling box whose right edge is past the viewport (tag.class). */
  sticksOut: string[];
}

export async function readReport(
  file: string,
  screenshot?: string,
  dark = false,
  width = 1280,
): Promise<PageReading> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
  try {
    const page = await browser.newPage({
      viewport: { width, height: 900 },
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
    const banners = await page.$$eval(".banner", (els) =>
      els.map((e) => ({
        verdict: (e as HTMLElement).dataset.verdict ?? "",
        exitCode: (e as HTMLElement).dataset.exitCode ?? "",
      })),
    );
    const { overflowPx, sticksOut } = await page.evaluate(() => {
      const viewport = document.documentElement.clientWidth;
      const out: string[] = [];
      for (const el of Array.from(document.body.querySelectorAll("*"))) {
        if (el.closest(".scroll") && !el.classList.contains("scroll")) continue;
        if (el.getBoundingClientRect().right > viewport + 0.5)
          out.push(`${el.tagName.toLowerCase()}.${(el as HTMLElement).className}`);
      }
      return { overflowPx: document.documentElement.scrollWidth - viewport, sticksOut: out };
    });
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { errors, charts, figures, banners, overflowPx, sticksOut };
  } finally {
    await browser.close();
  }
}
