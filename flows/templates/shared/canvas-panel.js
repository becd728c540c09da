// The drawing frame the canvas panels (transfer curve, history) share: a
// repaint on request and a canvas kept at its displayed size with a cached
// background. Copied by the flow builder (src/dashboard/flow.ts) into a
// panel's `methods` where its source says /* @include canvas-panel */.
// The panel has a <canvas ref="cv">, this.rt (with raf, size, bg, bgKey;
// see panel-lifecycle.js for size and liveContext) and a draw(t) method.
export default {
  // ---- canvas (shared: flows/templates/shared/canvas-panel.js)
  // A repaint of our own, for new settings or a new size; meter frames are
  // painted by the bus.
  request() { if (!this.rt.raf) this.rt.raf = requestAnimationFrame(this.frame); },
  frame(t) {
    this.rt.raf = 0;
    this.draw(t);
  },
  // Sizes the canvas and copies its background in; returns { g, w, h }
  // (g drawing in CSS pixels on top), or null before the canvas has a size.
  // What changes rarely (grid, scales, curve) is drawn by paintBg(bg, w, h)
  // into a spare canvas, again only when `key` or the size changes, so a
  // frame costs a copy and what moves.
  canvasWithBg(key, paintBg) {
    const cv = this.$refs.cv;
    if (!cv) return null;
    const s = this.rt;
    // Size from the ResizeObserver (reading clientWidth here would force a
    // layout each frame); pixel ratio capped at 2, as in the meters.
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    const w = s.size.w, h = s.size.h;
    if (!w) return null;
    if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(h * dpr)) { cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr); }
    const bgKey = key + ':' + cv.width + 'x' + cv.height;
    if (s.bgKey !== bgKey) {
      s.bg = s.bg || document.createElement('canvas');
      s.bg.width = cv.width; s.bg.height = cv.height;
      const bg = s.bg.getContext('2d');
      bg.setTransform(dpr, 0, 0, dpr, 0, 0);
      paintBg(bg, w, h);
      s.bgKey = bgKey;
    }
    const g = this.liveContext(cv);
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.drawImage(s.bg, 0, 0);
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { g, w, h };
  },
};
