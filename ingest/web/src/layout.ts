/**
 * Grafana's grid rules (react-grid-layout, 24 columns, vertical compaction): a panel that sticks
 * out on the right is moved left (`correctBounds`), a panel that then overlaps one placed before
 * it moves down, and every panel rises as far as it can (so panels a key may not see leave no hole).
 */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

const COLUMNS = 24;

const overlaps = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

export function layout<T extends { gridPos: Box }>(items: readonly T[]): Map<T, Box> {
  const placed: Box[] = [];
  const out = new Map<T, Box>();
  const order = [...items].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x);
  for (const item of order) {
    const w = Math.min(Math.max(1, item.gridPos.w), COLUMNS);
    const box: Box = {
      x: Math.min(Math.max(0, item.gridPos.x), COLUMNS - w),
      y: Math.max(0, item.gridPos.y),
      w,
      h: Math.max(1, item.gridPos.h),
    };
    while (placed.some((p) => overlaps(p, box))) box.y++;
    while (box.y > 0 && !placed.some((p) => overlaps(p, { ...box, y: box.y - 1 }))) box.y--;
    placed.push(box);
    out.set(item, box);
  }
  return out;
}
