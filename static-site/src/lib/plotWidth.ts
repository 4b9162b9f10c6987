import type uPlot from "uplot";

/** Keep a uPlot chart as wide as its container (at least `minWidth` px) at a fixed height;
 * returns the cleanup that stops following and destroys the chart. */
export function followContainerWidth(u: uPlot, el: HTMLElement, minWidth: number, height: number): () => void {
  const ro = new ResizeObserver(() => {
    const w = Math.max(minWidth, el.clientWidth);
    if (w !== u.width) u.setSize({ width: w, height });
  });
  ro.observe(el);
  return () => {
    ro.disconnect();
    u.destroy();
  };
}
