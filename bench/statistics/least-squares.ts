// Ordinary least squares of y on x: slope, intercept and r². Used for bytes per waiter (the slope of
// memory against parked waiters), where the process's fixed cost is the intercept.

export interface Fit {
  slope: number;
  intercept: number;
  r2: number;
}

export function leastSquares(points: readonly (readonly [number, number])[]): Fit {
  const n = points.length;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
    syy += (y - my) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const r2 = sxx === 0 || syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept: my - slope * mx, r2 };
}
