// The lifecycle every panel shares: joining Node-RED's socket, the page's
// meter bus and the canvas size, and leaving them again. A ui-template is
// a component of its own and cannot import, so the flow builder
// (src/dashboard/flow.ts) copies the members below into a panel's
// `methods` where the panel's source says /* @include panel-lifecycle */.
// A panel calls attachPanel(...) in mounted(), after setting this.rt, and
// detachPanel() in unmounted().
export default {
  // ---- panel lifecycle (shared: flows/templates/shared/panel-lifecycle.js)
  // o.paint(t): subscribe to window.picompMeters, the meter bus the Meters
  //   panel fills; the bus calls onFrame(frame, now) with every frame and
  //   o.paint(t) in the next animation frame if onFrame did not return false.
  // o.hello: ask the model for the unit snapshot now and on every reconnect.
  // o.resized(): watch the canvas ($refs.cv); rt.size holds its size.
  // Node-RED's messages to the panel always go to onMessage(msg).
  attachPanel(o) {
    this.ro = null;
    this.hello = null;
    if (o.paint) {
      const bus = window.picompMeters || (window.picompMeters = { subs: new Set(), frame: null });
      this.rt.bus = bus;
      this.rt.sub = { dirty: false, data: (m, now) => this.onFrame(m, now), paint: o.paint };
      bus.subs.add(this.rt.sub);
    }
    this.onMsg = (m) => this.onMessage(m);
    this.$socket.on('msg-input:' + this.id, this.onMsg);
    if (o.hello) {
      this.hello = () => this.send({ topic: 'hello' });
      this.$socket.on('connect', this.hello);
    }
    if (o.resized) {
      this.ro = new ResizeObserver((entries) => {
        const r = entries[entries.length - 1].contentRect;
        this.rt.size = { w: r.width, h: r.height };
        o.resized();
      });
      this.ro.observe(this.$refs.cv);
    }
    if (o.hello) this.hello();
  },
  // The 2D context of a canvas redrawn with every meter frame.
  // `desynchronized` lets Chromium pass the canvas to the compositor without
  // copying it in the page's commit, which was half of the page's
  // main-thread time (npm run bench, dashboard rows); where it cannot, it
  // draws as usual.
  liveContext(cv) { return cv.getContext('2d', { desynchronized: true }); },
  detachPanel() {
    if (this.ro) this.ro.disconnect();
    if (this.rt.sub) this.rt.bus.subs.delete(this.rt.sub);
    if (this.hello) this.$socket.off('connect', this.hello);
    if (this.rt.raf) cancelAnimationFrame(this.rt.raf);
  },
};
