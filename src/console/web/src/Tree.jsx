// Who invited whom below one person, laid out by d3-hierarchy's tidy tree and
// drawn as SVG. Clicking a person folds or unfolds their invitees; double-click
// (or Enter) opens their page.
import { hierarchy, tree } from "d3-hierarchy";
import { useMemo, useState } from "preact/hooks";

const ROW = 26;
const COLUMN = 210;
const MARGIN = 12;

export function Tree({ root, onOpen }) {
  const [folded, setFolded] = useState(() => new Set());
  const layout = useMemo(() => {
    const top = hierarchy(root, (person) => (folded.has(person.id) ? null : person.invitees));
    return tree().nodeSize([ROW, COLUMN])(top);
  }, [root, folded]);

  const nodes = layout.descendants();
  const xs = nodes.map((n) => n.x);
  const top = Math.min(...xs);
  const height = Math.max(...xs) - top + ROW + 2 * MARGIN;
  const width = (layout.height + 1) * COLUMN + 2 * MARGIN;
  // d3 lays out top-down; this draws left to right: depth across, siblings down.
  const at = (node) => [node.y + MARGIN + 6, node.x - top + MARGIN + ROW / 2];
  const toggle = (id) =>
    setFolded((old) => {
      const next = new Set(old);
      next.has(id) ? next.delete(id) : next.add(id);
      return next;
    });

  return (
    <div class="tree-box">
      <p class="note" id="tree-summary">
        {nodes.length - 1} {nodes.length === 2 ? "account" : "accounts"} shown below{" "}
        {root.name || root.email}
        {root.invitees.length === 0 ? " (invited nobody)" : ""}.
      </p>
      <svg class="tree" id="invitee-tree" width={width} height={height} role="tree">
        {layout.links().map((link) => {
          const [x1, y1] = at(link.source);
          const [x2, y2] = at(link.target);
          const mid = (x1 + x2) / 2;
          return (
            <path
              key={`${link.source.data.id}-${link.target.data.id}`}
              class="edge"
              d={`M${x1},${y1}C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
            />
          );
        })}
        {nodes.map((node) => {
          const [x, y] = at(node);
          const person = node.data;
          const hidden = folded.has(person.id) ? person.invitees.length : 0;
          return (
            <g
              key={person.id}
              class={`tree-node ${hidden ? "folded" : ""}`}
              data-email={person.email}
              transform={`translate(${x},${y})`}
              role="treeitem"
              tabindex="0"
              aria-expanded={person.invitees.length ? String(!hidden) : undefined}
              onClick={() => person.invitees.length && toggle(person.id)}
              onDblClick={() => node.depth > 0 && onOpen(person.id)}
              onKeyDown={(e) => e.key === "Enter" && node.depth > 0 && onOpen(person.id)}
            >
              <circle r="5" />
              <text x="10" dy="0.32em">
                {person.name || person.email}
                <tspan class="role"> {person.role}</tspan>
                {hidden ? <tspan class="more"> +{hidden}</tspan> : null}
              </text>
              <title>
                {person.email} · invited {person.createdAt}
              </title>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
