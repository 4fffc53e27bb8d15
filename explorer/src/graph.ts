// The graph picture: Cytoscape.js drawing on a canvas, positions from our own layered layout (layout.ts).
// Edges point from the derived thing to what it came from, as in the API and the DOT pictures, so origins
// (sources, datasets) sit at the top and what was derived from them below.

import cytoscape from "cytoscape";
import type { Core, ElementDefinition, EventObject } from "cytoscape";
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

// Above this many elements, drawing favours speed: straight edges, no edge labels, textures while panning.
const LARGE = 400;

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

// A hook for the browser tests and the bench: the Cytoscape instance of the graph on screen, if any.
declare global {
  interface Window {
    provgraph?: { graph: () => Core | null };
  }
}

export class GraphView {
  cy: Core | null = null;
  readonly nodes = new Map<string, GNodeData>();
  readonly edges = new Map<string, GEdgeData>();
  private options: DrawOptions = {};

  constructor(
    readonly container: HTMLElement,
    private readonly handlers: GraphHandlers = {},
  ) {}

  /** Draw these nodes and edges (replacing what was drawn), laid out afresh. */
  draw(nodes: GNodeData[], edges: GEdgeData[], options: DrawOptions = {}): void {
    this.nodes.clear();
    this.edges.clear();
    this.options = options;
    this.add(nodes, edges);
    this.render();
  }

  /** Add what an expansion found and lay everything out again; the selection stays. */
  merge(nodes: GNodeData[], edges: GEdgeData[]): number {
    const before = this.nodes.size;
    this.add(nodes, edges);
    const selected = this.cy?.$("node:selected").map((n) => n.id()) ?? [];
    const expanded = this.cy?.$("node.expanded").map((n) => n.id()) ?? [];
    this.render();
    for (const id of expanded) this.cy?.$id(id).addClass("expanded");
    for (const id of selected) this.cy?.$id(id).select();
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
    const large = ids.length + edges.length > LARGE;
    const start = new Set(this.options.start ?? []);
    const elements: ElementDefinition[] = [];
    for (const [id, node] of this.nodes) {
      elements.push({
        group: "nodes",
        data: { id, label: labelOf(node, this.options.asOf), colour: colourOf(node) },
        position: positions.get(id),
        classes: classesOf(node, start, this.options.asOf),
      });
    }
    for (const [key, e] of this.edges) {
      elements.push({
        group: "edges",
        data: { id: key, source: e.fromId, target: e.toId, label: e.role ? `${e.type} (${e.role.toLowerCase()})` : e.type },
      });
    }
    this.cy?.destroy();
    this.container.dataset.ready = "false";
    const cy = cytoscape({
      container: this.container,
      elements,
      layout: { name: "preset", fit: true, padding: 24 },
      style: style(large),
      minZoom: 0.02,
      maxZoom: 3,
      boxSelectionEnabled: false,
      selectionType: "single",
      textureOnViewport: large,
      hideEdgesOnViewport: large,
      motionBlur: false,
      pixelRatio: large ? 1 : "auto",
    });
    this.cy = cy;
    window.provgraph = { graph: () => this.cy };
    cy.on("tap", "node", (event: EventObject) => {
      const node = this.nodes.get(event.target.id());
      if (node) this.handlers.onSelect?.(node);
    });
    cy.on("dbltap", "node", (event: EventObject) => {
      const node = this.nodes.get(event.target.id());
      if (node) this.handlers.onExpand?.(node);
    });
    cy.on("tap", (event: EventObject) => {
      if (event.target === cy) {
        cy.$(":selected").unselect();
        this.handlers.onSelect?.(null);
      }
    });
    // "Interactive" is when the first frame is on screen and events are wired: the bench measures to here.
    cy.one("render", () =>
      requestAnimationFrame(() => {
        const ready = performance.now();
        const d = this.container.dataset;
        d.nodes = String(ids.length);
        d.edges = String(edges.length);
        d.layoutMs = (laidOut - began).toFixed(1);
        d.renderMs = (ready - laidOut).toFixed(1);
        d.ready = "true";
        performance.measure("provgraph:graph", { start: began, end: ready });
      }),
    );
  }

  select(id: string): void {
    if (!this.cy) return;
    this.cy.$(":selected").unselect();
    const el = this.cy.$id(id);
    el.select();
    const node = this.nodes.get(id);
    if (node) this.handlers.onSelect?.(node);
  }

  markExpanded(id: string): void {
    this.cy?.$id(id).addClass("expanded");
  }

  /** Emphasise these nodes and edges and dim the rest (an answer's explaining paths). */
  highlight(nodeIds: Iterable<string>, edgeKeys: Iterable<string>): void {
    const cy = this.cy;
    if (!cy) return;
    cy.batch(() => {
      cy.elements().removeClass("highlight").addClass("dim");
      for (const id of nodeIds) cy.$id(id).removeClass("dim").addClass("highlight");
      for (const key of edgeKeys) cy.$id(key).removeClass("dim").addClass("highlight");
    });
  }

  clearHighlight(): void {
    this.cy?.elements().removeClass("highlight dim");
  }

  fit(): void {
    this.cy?.fit(undefined, 24);
  }

  destroy(): void {
    this.cy?.destroy();
    this.cy = null;
    window.provgraph = { graph: () => null };
  }
}

function labelOf(node: GNodeData, asOf?: string | null): string {
  const kind = (node.__typename as Kind) ?? kindOf(node.id);
  const marks: string[] = [];
  if (isExcluded(node, asOf)) marks.push("EXCLUDED");
  const stage = stageOf(node);
  if (kind === "ModelVersion" && stage && stage !== "NONE") marks.push(stage);
  const name = typeof node.name === "string" && kind !== "Slice" ? node.name : nameOf(node.id);
  const short = name.length > 24 ? name.slice(0, 23) + "…" : name;
  return `${kind}${marks.length ? " · " + marks.join(" · ") : ""}\n${short}`;
}

function colourOf(node: GNodeData): string {
  const kind = (node.__typename as Kind) ?? kindOf(node.id);
  return COLOURS[kind] ?? "#ffffff";
}

function classesOf(node: GNodeData, start: Set<string>, asOf?: string | null): string[] {
  const classes = [`k-${node.__typename}`];
  if (start.has(node.id)) classes.push("start");
  if (isExcluded(node, asOf)) classes.push("excluded");
  if (node.__typename === "ModelVersion" && stageOf(node) === "PRODUCTION") classes.push("production");
  return classes;
}

function style(large: boolean): cytoscape.StylesheetJson {
  return [
    {
      selector: "node",
      style: {
        shape: "round-rectangle",
        width: 160,
        height: 44,
        "background-color": "data(colour)",
        "border-width": 1,
        "border-color": "#8a94a6",
        label: "data(label)",
        "font-size": 11,
        "font-family": "system-ui, sans-serif",
        color: "#1b1f24",
        "text-wrap": "wrap",
        "text-max-width": "152px",
        "text-valign": "center",
        "text-halign": "center",
        "min-zoomed-font-size": 6,
      },
    },
    { selector: "node.start", style: { "border-width": 3, "border-color": "#d63384" } },
    { selector: "node.expanded", style: { "border-style": "dotted" } },
    {
      selector: "node.production",
      style: { "border-width": 5, "border-style": "double", "border-color": "#146c43" },
    },
    {
      selector: "node.excluded",
      style: { "border-width": 3, "border-style": "dashed", "border-color": "#dc3545", "background-color": "#f8d7da" },
    },
    { selector: "node:selected", style: { "overlay-color": "#0d6efd", "overlay-opacity": 0.18, "overlay-padding": 4 } },
    {
      selector: "edge",
      style: {
        width: 1.2,
        "line-color": "#98a2b3",
        "target-arrow-color": "#98a2b3",
        "target-arrow-shape": "triangle",
        "arrow-scale": 0.8,
        "curve-style": large ? "straight" : "bezier",
        label: large ? "" : "data(label)",
        "font-size": 8,
        color: "#6c757d",
        "text-background-color": "#ffffff",
        "text-background-opacity": 0.85,
        "text-background-padding": "1px",
        "min-zoomed-font-size": 7,
      },
    },
    { selector: ".dim", style: { opacity: 0.22 } },
    { selector: "node.highlight", style: { "border-width": 3, "border-color": "#d63384" } },
    {
      selector: "edge.highlight",
      style: { width: 3, "line-color": "#d63384", "target-arrow-color": "#d63384", color: "#a61e4d" },
    },
  ];
}
