// Drawing the graph on a canvas, with pan, zoom, click and double-click.
//
// Why not Cytoscape.js (the first version used it): its per-element style and bounding-box work cost
// 1.0–1.5 s of renderer CPU to show a 2,000-node, 3,700-edge lineage on this project's 2-core machine,
// before any contention, against a target of 1 s for the whole draw. Provenance pictures need little of
// what it offers: boxes at known positions (layout.ts), straight edges, a few border styles. Here a frame
// is a handful of canvas paths — edges in one stroke, nodes batched by colour, labels only when they can be
// read and only for what is in view — so drawing thousands of nodes takes milliseconds, and panning or
// zooming redraws at frame rate.

export interface NodeShape {
  id: string;
  /** Two lines: the kind (with marks such as EXCLUDED) and the name. */
  label: string;
  x: number;
  y: number;
  fill: string;
  classes: Set<string>;
}

export interface EdgeShape {
  id: string;
  source: string;
  target: string;
  label: string;
  classes: Set<string>;
}

export interface CanvasHandlers {
  onTap?: (id: string | null) => void;
  onDoubleTap?: (id: string) => void;
}

export const NODE_W = 160;
export const NODE_H = 44;
const FONT = 11;
const MIN_FONT = 6; // smaller text is not drawn: it could not be read
const PAD = 24;
const DOUBLE_TAP_MS = 350;
const DRAG_PX = 4;

const INK = "#1b1f24";
const EDGE = "#98a2b3";
const PINK = "#d63384";
const RED = "#dc3545";
const GREEN = "#146c43";
const BLUE = "rgba(13, 110, 253, 0.18)";

export class CanvasGraph {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly byId = new Map<string, NodeShape>();
  private zoomLevel = 1;
  private pan = { x: 0, y: 0 };
  private selected: string | null = null;
  private frame = 0;
  private lastTap = { id: "", at: 0 };
  private readonly resize: ResizeObserver;
  private readonly cleanups: (() => void)[] = [];
  /** Called once after the first frame is on screen. */
  onFirstFrame: (() => void) | null = null;

  constructor(
    readonly container: HTMLElement,
    readonly nodes: NodeShape[],
    readonly edges: EdgeShape[],
    private readonly handlers: CanvasHandlers = {},
  ) {
    for (const n of nodes) this.byId.set(n.id, n);
    this.canvas = document.createElement("canvas");
    this.canvas.className = "graph-canvas";
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", `Provenance graph of ${nodes.length} nodes and ${edges.length} edges`);
    container.replaceChildren(this.canvas);
    this.ctx = this.canvas.getContext("2d", { alpha: false })!;
    this.sizeCanvas();
    this.fit();
    this.listen();
    this.resize = new ResizeObserver(() => {
      this.sizeCanvas();
      this.redraw();
    });
    this.resize.observe(container);
  }

  // -- the view ---------------------------------------------------------------------------------------
  zoom(): number {
    return this.zoomLevel;
  }

  fit(): void {
    const { width, height } = this.size();
    if (!this.nodes.length) return;
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const n of this.nodes) {
      x0 = Math.min(x0, n.x - NODE_W / 2);
      x1 = Math.max(x1, n.x + NODE_W / 2);
      y0 = Math.min(y0, n.y - NODE_H / 2);
      y1 = Math.max(y1, n.y + NODE_H / 2);
    }
    const z = Math.min((width - 2 * PAD) / Math.max(x1 - x0, 1), (height - 2 * PAD) / Math.max(y1 - y0, 1), 1.25);
    this.zoomLevel = Math.max(z, 0.01);
    this.pan = { x: width / 2 - this.zoomLevel * (x0 + x1) / 2, y: height / 2 - this.zoomLevel * (y0 + y1) / 2 };
    this.redraw();
  }

  zoomBy(factor: number, at?: { x: number; y: number }): void {
    const { width, height } = this.size();
    const p = at ?? { x: width / 2, y: height / 2 };
    const z = Math.min(Math.max(this.zoomLevel * factor, 0.01), 4);
    // Keep the point under the cursor where it is.
    this.pan = { x: p.x - (p.x - this.pan.x) * (z / this.zoomLevel), y: p.y - (p.y - this.pan.y) * (z / this.zoomLevel) };
    this.zoomLevel = z;
    this.redraw();
  }

  /** Where a node is drawn, in CSS pixels relative to the page's viewport (for tests and the bench). */
  screen(id: string): { x: number; y: number } | null {
    const n = this.byId.get(id);
    if (!n) return null;
    const box = this.canvas.getBoundingClientRect();
    return { x: box.left + n.x * this.zoomLevel + this.pan.x, y: box.top + n.y * this.zoomLevel + this.pan.y };
  }

  select(id: string | null): void {
    this.selected = id;
    this.redraw();
  }

  node(id: string): NodeShape | undefined {
    return this.byId.get(id);
  }

  redraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
      if (this.onFirstFrame) {
        const done = this.onFirstFrame;
        this.onFirstFrame = null;
        done();
      }
    });
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    for (const cleanup of this.cleanups) cleanup();
    this.canvas.remove();
  }

  // -- drawing ----------------------------------------------------------------------------------------
  private size(): { width: number; height: number } {
    return { width: this.container.clientWidth || 800, height: this.container.clientHeight || 500 };
  }

  private sizeCanvas(): void {
    const { width, height } = this.size();
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
  }

  private draw(): void {
    const ctx = this.ctx;
    const ratio = window.devicePixelRatio || 1;
    const { width, height } = this.size();
    const z = this.zoomLevel;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = "#fcfdff";
    ctx.fillRect(0, 0, width, height);
    ctx.setTransform(ratio * z, 0, 0, ratio * z, ratio * this.pan.x, ratio * this.pan.y);
    // What is in view, in graph coordinates (with a margin for boxes half inside).
    const view = {
      x0: -this.pan.x / z - NODE_W,
      x1: (width - this.pan.x) / z + NODE_W,
      y0: -this.pan.y / z - NODE_H,
      y1: (height - this.pan.y) / z + NODE_H,
    };
    const inView = (n: NodeShape) => n.x >= view.x0 && n.x <= view.x1 && n.y >= view.y0 && n.y <= view.y1;
    const px = 1 / z; // one screen pixel, in graph units
    const detailed = z >= 0.3; // arrowheads, rounded corners
    const anyDim = this.nodes.some((n) => n.classes.has("dim"));

    // Edges: plain ones in one stroke, then dimmed, then highlighted on top.
    const groups: [EdgeShape[], string, number, number][] = [
      [this.edges.filter((e) => !e.classes.has("dim") && !e.classes.has("highlight")), EDGE, 1.2, 1],
      [this.edges.filter((e) => e.classes.has("dim")), EDGE, 1.2, 0.22],
      [this.edges.filter((e) => e.classes.has("highlight")), PINK, 3, 1],
    ];
    for (const [edges, colour, width, alpha] of groups) {
      if (!edges.length) continue;
      ctx.globalAlpha = alpha;
      ctx.strokeStyle = colour;
      ctx.fillStyle = colour;
      ctx.lineWidth = width * px;
      ctx.beginPath();
      for (const e of edges) {
        const a = this.byId.get(e.source);
        const b = this.byId.get(e.target);
        if (!a || !b) continue;
        ctx.moveTo(a.x, a.y);
        ctx.lineTo(b.x, b.y);
      }
      ctx.stroke();
      if (detailed) {
        ctx.beginPath();
        for (const e of edges) {
          const a = this.byId.get(e.source);
          const b = this.byId.get(e.target);
          if (a && b && (inView(a) || inView(b))) arrowhead(ctx, a, b, (width + 6) * px);
        }
        ctx.fill();
      }
    }
    ctx.globalAlpha = 1;

    // Nodes: batched by fill colour, dimmed ones first.
    const visible = this.nodes.filter(inView);
    for (const dim of anyDim ? [true, false] : [false]) {
      ctx.globalAlpha = dim ? 0.22 : 1;
      const byFill = new Map<string, NodeShape[]>();
      for (const n of visible) {
        if (n.classes.has("dim") !== dim) continue;
        const fill = n.classes.has("excluded") ? "#f8d7da" : n.fill;
        (byFill.get(fill) ?? byFill.set(fill, []).get(fill)!).push(n);
      }
      for (const [fill, shapes] of byFill) {
        ctx.fillStyle = fill;
        ctx.beginPath();
        for (const n of shapes) box(ctx, n, detailed);
        ctx.fill();
      }
      ctx.strokeStyle = "#8a94a6";
      ctx.lineWidth = px;
      ctx.beginPath();
      for (const n of visible) if (n.classes.has("dim") === dim && plain(n)) box(ctx, n, detailed);
      ctx.stroke();
      for (const n of visible) if (n.classes.has("dim") === dim && !plain(n)) this.border(n, px, detailed);
    }
    ctx.globalAlpha = 1;

    if (this.selected) {
      const n = this.byId.get(this.selected);
      if (n) {
        ctx.fillStyle = BLUE;
        ctx.beginPath();
        ctx.rect(n.x - NODE_W / 2 - 4 * px, n.y - NODE_H / 2 - 4 * px, NODE_W + 8 * px, NODE_H + 8 * px);
        ctx.fill();
      }
    }

    // Labels, once they can be read.
    if (FONT * z >= MIN_FONT) {
      ctx.fillStyle = INK;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.font = `${FONT}px system-ui, sans-serif`;
      for (const n of visible) {
        ctx.globalAlpha = n.classes.has("dim") ? 0.3 : 1;
        const lines = n.label.split("\n");
        lines.forEach((line, i) => {
          // A third line (EXCLUDED, PRODUCTION) is set in bold: it is why the node is marked.
          ctx.font = i === 2 ? `bold ${FONT - 1}px system-ui, sans-serif` : `${FONT}px system-ui, sans-serif`;
          ctx.fillText(fitText(ctx, line, NODE_W - 8), n.x, n.y + (i - (lines.length - 1) / 2) * (FONT + 1.5));
        });
      }
      ctx.globalAlpha = 1;
      if (8 * z >= MIN_FONT && this.edges.length <= 400) {
        ctx.font = "8px system-ui, sans-serif";
        for (const e of this.edges) {
          const a = this.byId.get(e.source);
          const b = this.byId.get(e.target);
          if (!a || !b || !(inView(a) || inView(b))) continue;
          const mx = (a.x + b.x) / 2;
          const my = (a.y + b.y) / 2;
          const w = ctx.measureText(e.label).width + 4;
          ctx.globalAlpha = e.classes.has("dim") ? 0.3 : 0.9;
          ctx.fillStyle = "#ffffff";
          ctx.fillRect(mx - w / 2, my - 5, w, 10);
          ctx.fillStyle = e.classes.has("highlight") ? "#a61e4d" : "#6c757d";
          ctx.fillText(e.label, mx, my);
        }
        ctx.globalAlpha = 1;
      }
    }
  }

  private border(n: NodeShape, px: number, detailed: boolean): void {
    const ctx = this.ctx;
    ctx.save();
    const c = n.classes;
    if (c.has("production")) {
      // A double border: two thin lines, as "production version" in the legend.
      ctx.strokeStyle = GREEN;
      ctx.lineWidth = 1.5 * px;
      ctx.beginPath();
      box(ctx, n, detailed);
      ctx.stroke();
      ctx.beginPath();
      box(ctx, n, detailed, 3.5 * px);
      ctx.stroke();
    }
    if (c.has("excluded")) {
      ctx.strokeStyle = RED;
      ctx.lineWidth = 3 * px;
      ctx.setLineDash([6 * px, 4 * px]);
      ctx.beginPath();
      box(ctx, n, detailed);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (c.has("start") || c.has("highlight")) {
      ctx.strokeStyle = PINK;
      ctx.lineWidth = 3 * px;
      if (c.has("expanded")) ctx.setLineDash([2 * px, 3 * px]);
      ctx.beginPath();
      box(ctx, n, detailed, c.has("production") ? -2 * px : 0);
      ctx.stroke();
    } else if (!c.has("production") && !c.has("excluded")) {
      ctx.strokeStyle = "#8a94a6";
      ctx.lineWidth = 1.5 * px;
      ctx.setLineDash([2 * px, 2 * px]); // expanded: its neighbours are shown
      ctx.beginPath();
      box(ctx, n, detailed);
      ctx.stroke();
    }
    ctx.restore();
  }

  // -- pointer and wheel ------------------------------------------------------------------------------
  private listen(): void {
    const canvas = this.canvas;
    let down: { x: number; y: number; panX: number; panY: number; moved: boolean } | null = null;
    const local = (event: MouseEvent) => {
      const box = canvas.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top };
    };
    const on = <K extends keyof HTMLElementEventMap>(type: K, fn: (event: HTMLElementEventMap[K]) => void, opts?: AddEventListenerOptions) => {
      canvas.addEventListener(type, fn as EventListener, opts);
      this.cleanups.push(() => canvas.removeEventListener(type, fn as EventListener));
    };
    on("pointerdown", (event) => {
      const p = local(event);
      down = { x: p.x, y: p.y, panX: this.pan.x, panY: this.pan.y, moved: false };
      canvas.setPointerCapture(event.pointerId);
    });
    on("pointermove", (event) => {
      if (!down) return;
      const p = local(event);
      if (!down.moved && Math.hypot(p.x - down.x, p.y - down.y) < DRAG_PX) return;
      down.moved = true;
      this.pan = { x: down.panX + p.x - down.x, y: down.panY + p.y - down.y };
      canvas.style.cursor = "grabbing";
      this.redraw();
    });
    on("pointerup", (event) => {
      const was = down;
      down = null;
      canvas.style.cursor = "";
      if (!was || was.moved) return;
      const id = this.hit(local(event));
      const now = performance.now();
      if (id && this.lastTap.id === id && now - this.lastTap.at < DOUBLE_TAP_MS) {
        this.lastTap = { id: "", at: 0 };
        this.handlers.onDoubleTap?.(id);
        return;
      }
      this.lastTap = { id: id ?? "", at: now };
      this.handlers.onTap?.(id);
    });
    on(
      "wheel",
      (event) => {
        event.preventDefault();
        this.zoomBy(Math.exp(-event.deltaY * 0.0015), local(event));
      },
      { passive: false },
    );
  }

  /** The node under a point of the canvas, if any (the topmost: the last drawn). */
  private hit(p: { x: number; y: number }): string | null {
    const x = (p.x - this.pan.x) / this.zoomLevel;
    const y = (p.y - this.pan.y) / this.zoomLevel;
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      if (Math.abs(x - n.x) <= NODE_W / 2 && Math.abs(y - n.y) <= NODE_H / 2) return n.id;
    }
    return null;
  }
}

function plain(n: NodeShape): boolean {
  const c = n.classes;
  return !(c.has("start") || c.has("excluded") || c.has("production") || c.has("highlight") || c.has("expanded"));
}

function box(ctx: CanvasRenderingContext2D, n: NodeShape, rounded: boolean, inset = 0): void {
  const [x, y, w, h] = [n.x - NODE_W / 2 + inset, n.y - NODE_H / 2 + inset, NODE_W - 2 * inset, NODE_H - 2 * inset];
  if (rounded) ctx.roundRect(x, y, w, h, 6);
  else ctx.rect(x, y, w, h);
}

/** An arrowhead where the edge from `a` meets the box of `b` (what `a` came from). */
function arrowhead(ctx: CanvasRenderingContext2D, a: NodeShape, b: NodeShape, size: number): void {
  const dx = a.x - b.x;
  const dy = a.y - b.y;
  if (!dx && !dy) return;
  // Where the line leaves b's box, towards a.
  const t = Math.min(dx ? NODE_W / 2 / Math.abs(dx) : Infinity, dy ? NODE_H / 2 / Math.abs(dy) : Infinity);
  const tipX = b.x + dx * t;
  const tipY = b.y + dy * t;
  const len = Math.hypot(dx, dy);
  const ux = dx / len;
  const uy = dy / len;
  ctx.moveTo(tipX, tipY);
  ctx.lineTo(tipX + ux * size - uy * size * 0.5, tipY + uy * size + ux * size * 0.5);
  ctx.lineTo(tipX + ux * size + uy * size * 0.5, tipY + uy * size - ux * size * 0.5);
  ctx.closePath();
}

const fitted = new Map<string, string>();

/** The text, cut with an ellipsis to fit the box (measured once per text). */
function fitText(ctx: CanvasRenderingContext2D, text: string, width: number): string {
  const known = fitted.get(text);
  if (known !== undefined) return known;
  let cut = text;
  while (cut.length > 1 && ctx.measureText(cut).width > width) cut = cut.slice(0, -2) + "…";
  if (fitted.size > 20_000) fitted.clear();
  fitted.set(text, cut);
  return cut;
}
