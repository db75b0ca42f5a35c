// Draws a touch-strip layout with a feedback payload as SVG: how the dial would look, for
// screenshots and docs (the Stream Deck app does the real drawing). It reads the same layout JSON
// the plugin ships, so a change to the layout shows here too.

import { escapeXml } from "./icons.js";

/** @typedef {{key: string, type: string, rect: number[], zOrder?: number, [prop: string]: any}} LayoutItem */
/** @typedef {{id?: string, items: LayoutItem[]}} Layout */

export const CANVAS = { width: 200, height: 100 };
const FONT = "Arial, Helvetica, sans-serif";

/**
 * The layout's items with the payload applied, in drawing order (zOrder, then file order).
 * @param {Layout} layout
 * @param {Record<string, any>} feedback
 * @returns {LayoutItem[]}
 */
export function mergedItems(layout, feedback) {
  return layout.items
    .map((item, index) => {
      const change = feedback[item.key];
      const update =
        change === undefined ? {} : typeof change === "object" && change !== null ? change : { value: change };
      return { index, item: { ...item, ...update } };
    })
    .sort((a, b) => (a.item.zOrder ?? 0) - (b.item.zOrder ?? 0) || a.index - b.index)
    .map(({ item }) => item);
}

/**
 * @param {Layout} layout
 * @param {Record<string, any>} feedback
 * @param {string} [id] prefix for the SVG's clip-path ids (several SVGs on one page)
 * @returns {string} an SVG document of the 200x100 canvas
 */
export function renderLayoutSvg(layout, feedback, id = "dial") {
  const parts = mergedItems(layout, feedback)
    .filter((item) => item.enabled !== false)
    .map((item, i) => drawItem(item, `${id}-${i}`));
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CANVAS.width}" height="${CANVAS.height}" ` +
    `viewBox="0 0 ${CANVAS.width} ${CANVAS.height}"><rect width="${CANVAS.width}" height="${CANVAS.height}" fill="#000000"/>` +
    `${parts.join("")}</svg>`
  );
}

/**
 * @param {LayoutItem} item
 * @param {string} clipId
 * @returns {string}
 */
function drawItem(item, clipId) {
  const [x, y, w, h] = item.rect;
  const opacity = typeof item.opacity === "number" ? item.opacity : 1;
  const open = `<g data-key="${escapeXml(item.key)}" opacity="${opacity}">`;
  const background = item.background
    ? `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${escapeXml(item.background)}"/>`
    : "";
  if (item.type === "text") {
    const size = item.font?.size ?? 16;
    const weight = item.font?.weight ?? 400;
    const align = item.alignment ?? "center";
    const anchor = align === "left" ? "start" : align === "right" ? "end" : "middle";
    const tx = align === "left" ? x : align === "right" ? x + w : x + w / 2;
    const ty = y + h / 2 + size * 0.35;
    return (
      `${open}${background}<clipPath id="${clipId}"><rect x="${x}" y="${y}" width="${w}" height="${h}"/></clipPath>` +
      `<text clip-path="url(#${clipId})" x="${tx}" y="${ty.toFixed(1)}" text-anchor="${anchor}" font-family="${FONT}" ` +
      `font-size="${size}" font-weight="${weight}" fill="${escapeXml(item.color ?? "#ffffff")}">${escapeXml(String(item.value ?? ""))}</text></g>`
    );
  }
  if (item.type === "bar" || item.type === "gbar") {
    const min = item.range?.min ?? 0;
    const max = item.range?.max ?? 100;
    const value = typeof item.value === "number" ? item.value : 0;
    const share = max > min ? Math.max(0, Math.min(1, (value - min) / (max - min))) : 0;
    const barH = item.type === "gbar" ? (item.bar_h ?? h) : h;
    const rx = item.subtype === 4 || item.subtype === undefined ? barH / 2 : 0;
    const border = item.border_w
      ? ` stroke="${escapeXml(item.bar_border_c ?? "#ffffff")}" stroke-width="${item.border_w}"`
      : "";
    return (
      `${open}${background}<rect x="${x}" y="${y}" width="${w}" height="${barH}" rx="${rx}" fill="${escapeXml(item.bar_bg_c ?? "#333333")}"${border}/>` +
      `<rect data-part="fill" x="${x}" y="${y}" width="${(w * share).toFixed(2)}" height="${barH}" rx="${rx}" fill="${escapeXml(item.bar_fill_c ?? "#ffffff")}"/></g>`
    );
  }
  if (item.type === "pixmap") {
    const href = typeof item.value === "string" ? item.value : "";
    return `${open}${background}${href ? `<image x="${x}" y="${y}" width="${w}" height="${h}" href="${escapeXml(href)}"/>` : ""}</g>`;
  }
  return "";
}
