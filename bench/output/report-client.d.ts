// report-client.js runs in the page, where report.ts inlines uPlot before it as a global.
import type uPlotType from "uplot";

declare global {
  const uPlot: typeof uPlotType;
}
