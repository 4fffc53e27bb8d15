// The graph picture: our own canvas renderer (canvas.ts), positions from our own layered layout
// (layout.ts). Edges point from the derived thing to what it came from, as in the API and the DOT
// pictures, so origins (sources, datasets) sit at the top and what was derived from them below.

import { CanvasGraph, type EdgeShape, type NodeShape } from "./canvas";
import { COLOURS, kindOf, nameOf, type Kind } from "./kinds";
import { layered } from "./layout";
import type { GEdgeData, GNodeData } from "./queries";

export interface GraphHandlers {
  onSelect?: (node: GNodeData | null) => void;
  onExpand?: (node: GNodeData) => void;
}

export interface DrawOptions {
  /** Nodes to emphasise (the start of a lineage, the inference of a trace). */
  start?: string[];
  /** The time the picture is about: a source excluded after it is not marked excluded. */
  asOf?: string | null;
}

export function edgeKey(e: { fromId: string; toId: string; type: string }): string {
  return `${e.fromId}|${e.type}|${e.toId}`;
}

/** True when a node is an excluded source (as of the time shown) — marked red on every picture. */
export function isExcluded(node: GNodeData, asOf?: string | null): boolean {
  const at = node.excludedAt as string | null | undefined;
  if (node.__typename !== "Source" || !at) return false;
  return !asOf || new Date(at).getTime() <= new Date(asOf).getTime();
}

/** The stage to show: the stage at asOf when the query asked for it, else the stage now. */
export function stageOf(node: GNodeData): string | null {
  const then = node.asOfState as { stage?: string } | null | undefined;
  return then?.stage ?? (node.stage as string | undefined) ?? null;
}

/** What the browser tests and the bench read of the picture on screen. */
export interface DrawnGraph {
  nodes(): { id: string; label: string; classes: string[]; x: number; y: number }[];
  edges(): { id: string; source: string; target: string; classes: string[] }[];
  screen(id: string): { x: number; y: number } | null;
  zoom(): number;
}

declare global {
  interface Window {
    provgraph?: { graph: () => DrawnGraph | null };
  }
}

export class GraphView {
  private canvas: CanvasGraph | null = null;
  readonly nodes = new Map<string, GNodeData>();
  readonly edges = new Map<string, GEdgeData>();
  private options: DrawOptions = {};
  private readonly expanded = new Set<string>();

  constructor(
    readonly container: HTMLElement,
    private readonly handlers: GraphHandlers = {},
  ) {
    // Buttons too, not only the wheel and the mouse: zoom and fit from the keyboard.
    const button = (text: string, title: string, action: () => void) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.title = title;
      b.setAttribute("aria-label", title);
      b.addEventListener("click", action);
      return b;
    };
    const zoom = document.createElement("div");
    zoom.className = "zoom";
    zoom.append(button("+", "Zoom in", () => this.zoomBy(1.4)), button("−", "Zoom out", () => this.zoomBy(1 / 1.4)), button("⤢", "Fit the whole graph", () => this.fit()));
    container.before(zoom);
  }

  /** Draw these nodes and edges (replacing what was drawn), laid out afresh. */
  draw(nodes: GNodeData[], edges: GEdgeData[], options: DrawOptions = {}): void {
    this.nodes.clear();
    this.edges.clear();
    this.expanded.clear();
    this.options = options;
    this.add(nodes, edges);
    this.render();
  }

  /** Add what an expansion found and lay everything out again; the selection stays. */
  merge(nodes: GNodeData[], edges: GEdgeData[]): number {
    const before = this.nodes.size;
    this.add(nodes, edges);
    this.render();
    return this.nodes.size - before;
  }

  private add(nodes: GNodeData[], edges: GEdgeData[]): void {
    for (const n of nodes) this.nodes.set(n.id, { ...this.nodes.get(n.id), ...n });
    for (const e of edges) {
      // An edge to a node this picture does not hold (a type filtered out) cannot be drawn.
      if (!this.nodes.has(e.fromId) || !this.nodes.has(e.toId)) continue;
      this.edges.set(edgeKey(e), e);
    }
  }

  private render(): void {
    const began = performance.now();
    const ids = [...this.nodes.keys()];
    const edges = [...this.edges.values()];
    const positions = layered(ids, edges);
    const laidOut = performance.now();
    const start = new Set(this.options.start ?? []);
    const shapes: NodeShape[] = [];
    for (const [id, node] of this.nodes) {
      const p = positions.get(id) ?? { x: 0, y: 0 };
      const classes = classesOf(node, start, this.options.asOf);
      if (this.expanded.has(id)) classes.add("expanded");
      shapes.push({ id, label: labelOf(node, this.options.asOf), x: p.x, y: p.y, fill: colourOf(node), classes });
    }
    const lines: EdgeShape[] = [];
    for (const [key, e] of this.edges) {
      lines.push({ id: key, source: e.fromId, target: e.toId, label: e.role ? `${e.type} (${e.role.toLowerCase()})` : e.type, classes: new Set() });
    }
    const selected = this.canvas ? this.selectedId : null;
    this.canvas?.destroy();
    this.container.dataset.ready = "false";
    const canvas = new CanvasGraph(this.container, shapes, lines, {
      onTap: (id) => {
        canvas.select(id);
        this.selectedId = id;
        this.handlers.onSelect?.(id ? this.nodes.get(id) ?? null : null);
      },
      onDoubleTap: (id) => {
        const node = this.nodes.get(id);
        if (node) this.handlers.onExpand?.(node);
      },
    });
    this.canvas = canvas;
    if (selected) canvas.select(selected);
    window.provgraph = { graph: () => (this.canvas ? drawn(this.canvas) : null) };
    // "Interactive" is when the first frame is on screen and events are wired: the bench measures to here.
    canvas.onFirstFrame = () => {
      const ready = performance.now();
      const d = this.container.dataset;
      d.nodes = String(ids.length);
      d.edges = String(edges.length);
      d.layoutMs = (laidOut - began).toFixed(1);
      d.renderMs = (ready - laidOut).toFixed(1);
      d.ready = "true";
      performance.measure("provgraph:graph", { start: began, end: ready });
    };
  }

  private selectedId: string | null = null;

  select(id: string): void {
    if (!this.canvas) return;
    this.selectedId = id;
    this.canvas.select(id);
    const node = this.nodes.get(id);
    if (node) this.handlers.onSelect?.(node);
  }

  markExpanded(id: string): void {
    this.expanded.add(id);
    this.canvas?.node(id)?.classes.add("expanded");
    this.canvas?.redraw();
  }

  /** Emphasise these nodes and edges and dim the rest (an answer's explaining paths). */
  highlight(nodeIds: Iterable<string>, edgeKeys: Iterable<string>): void {
    const canvas = this.canvas;
    if (!canvas) return;
    const nodes = new Set(nodeIds);
    const edges = new Set(edgeKeys);
    for (const n of canvas.nodes) mark(n.classes, nodes.has(n.id));
    for (const e of canvas.edges) mark(e.classes, edges.has(e.id));
    canvas.redraw();
  }

  clearHighlight(): void {
    if (!this.canvas) return;
    for (const shape of [...this.canvas.nodes, ...this.canvas.edges]) {
      shape.classes.delete("highlight");
      shape.classes.delete("dim");
    }
    this.canvas.redraw();
  }

  fit(): void {
    this.canvas?.fit();
  }

  zoomBy(factor: number): void {
    this.canvas?.zoomBy(factor);
  }

  destroy(): void {
    this.canvas?.destroy();
    this.canvas = null;
    window.provgraph = { graph: () => null };
  }
}

function mark(classes: Set<string>, on: boolean): void {
  classes.delete(on ? "dim" : "highlight");
  classes.add(on ? "highlight" : "dim");
}

function drawn(canvas: CanvasGraph): DrawnGraph {
  return {
    nodes: () => canvas.nodes.map((n) => ({ id: n.id, label: n.label, classes: [...n.classes], x: n.x, y: n.y })),
    edges: () => canvas.edges.map((e) => ({ id: e.id, source: e.source, target: e.target, classes: [...e.classes] })),
    screen: (id) => canvas.screen(id),
    zoom: () => canvas.zoom(),
  };
}

function labelOf(node: GNodeData, asOf?: string | null): string {
  const kind = (node.__typename as Kind) ?? kindOf(node.id);
  const marks: string[] = [];
  if (isExcluded(node, asOf)) marks.push("EXCLUDED");
  const stage = stageOf(node);
  if (kind === "ModelVersion" && stage && stage !== "NONE") marks.push(stage);
  const name = typeof node.name === "string" && kind !== "Slice" ? node.name : nameOf(node.id);
  return `${kind}\n${name}${marks.length ? "\n" + marks.join(" · ") : ""}`;
}

function colourOf(node: GNodeData): string {
  const kind = (node.__typename as Kind) ?? kindOf(node.id);
  return COLOURS[kind] ?? "#ffffff";
}

function classesOf(node: GNodeData, start: Set<string>, asOf?: string | null): Set<string> {
  const classes = new Set([`k-${node.__typename}`]);
  if (start.has(node.id)) classes.add("start");
  if (isExcluded(node, asOf)) classes.add("excluded");
  if (node.__typename === "ModelVersion" && stageOf(node) === "PRODUCTION") classes.add("production");
  return classes;
}
