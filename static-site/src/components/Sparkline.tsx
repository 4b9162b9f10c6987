import { useLayoutEffect, useRef } from "preact/hooks";
import type { Values } from "../lib/metricSeries";
import type { Theme } from "../lib/theme";

interface Props {
  values: Values | null;
  /** Fixed top of the scale (100 for percentages); otherwise the data's maximum. */
  max?: number;
  /** What the line says, for screen readers: "CPU over the last 15 minutes: …". */
  label: string;
  theme: Theme;
  testId?: string;
}

const HEIGHT = 32;

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

/**
 * A small line on one canvas, redrawn in place when the values change (no new element, a fixed
 * box, so the host list never moves). Gaps stay gaps; a lone point is a dot. Its meaning is in
 * `label` (role="img"), never only in the drawing.
 */
export function Sparkline({ values, max, label, theme, testId }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  const latest = useRef({ values, max });
  latest.current = { values, max };

  const draw = () => {
    const canvas = ref.current;
    if (!canvas) return;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (w === 0 || h === 0) return;
    const dpr = window.devicePixelRatio || 1;
    const bw = Math.round(w * dpr);
    const bh = Math.round(h * dpr);
    if (canvas.width !== bw) canvas.width = bw;
    if (canvas.height !== bh) canvas.height = bh;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);

    const vs = latest.current.values;
    // The baseline, so an empty or flat sparkline still reads as a chart.
    ctx.strokeStyle = cssVar("--grid");
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(0, h - 0.5);
    ctx.lineTo(w, h - 0.5);
    ctx.stroke();
    if (!vs || vs.length === 0) return;

    let top = latest.current.max ?? 0;
    if (latest.current.max === undefined) for (const v of vs) if (v != null && v > top) top = v;
    if (!(top > 0)) top = 1;
    const pad = 2;
    const x = (i: number) => (vs.length === 1 ? w / 2 : (i / (vs.length - 1)) * (w - 2) + 1);
    const y = (v: number) => h - 1 - (Math.min(Math.max(v, 0), top) / top) * (h - 1 - pad);

    const stroke = cssVar("--chart-current");
    ctx.strokeStyle = stroke;
    ctx.fillStyle = stroke;
    ctx.lineWidth = 1.5;
    ctx.lineJoin = "round";
    ctx.beginPath();
    let drawing = false;
    for (let i = 0; i < vs.length; i++) {
      const v = vs[i];
      if (v == null) {
        drawing = false;
        continue;
      }
      const prevNull = i === 0 || vs[i - 1] == null;
      const nextNull = i === vs.length - 1 || vs[i + 1] == null;
      if (prevNull && nextNull) {
        ctx.moveTo(x(i) + 1.5, y(v));
        ctx.arc(x(i), y(v), 1.5, 0, Math.PI * 2);
        drawing = false;
        continue;
      }
      if (drawing) ctx.lineTo(x(i), y(v));
      else ctx.moveTo(x(i), y(v));
      drawing = true;
    }
    ctx.stroke();
  };

  useLayoutEffect(draw, [values, max, theme]);

  useLayoutEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const ro = new ResizeObserver(() => draw());
    ro.observe(canvas);
    return () => ro.disconnect();
  }, []);

  return <canvas class="sparkline" ref={ref} height={HEIGHT} role="img" aria-label={label} data-testid={testId} />;
}
