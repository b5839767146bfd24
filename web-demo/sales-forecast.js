// <sales-forecast>: an embeddable forecast chart computed in the browser.
//
//   <script type="module" src="https://host/sales-forecast.js"></script>
//   <sales-forecast src="https://host/models/product_P001_all_kan_v1"
//                   history="https://host/models/sample_product_P001_all_kan_v1.csv"></sales-forecast>
//
// `src` is an exported model's URL prefix; history comes from the `history`
// CSV URL or from CSV text inside the element; `store` / `product` pick one
// series of a long CSV (for global models); `title` replaces the heading;
// `days` is how many days of history to draw (56; 0 for all). Styling:
// --sales-forecast-color (line and band), --sales-forecast-history,
// --sales-forecast-height, --sales-forecast-font, --sales-forecast-background,
// --sales-forecast-text. Events (bubbling, crossing shadow roots):
// `forecast` (detail: the forecast and the model) and `error` (detail: {message}).
import { loadForecaster, parseHistory, fetchOk } from './runtime.js';
import { renderChart, bandOf } from './chart.js';

const STYLE = `
:host { display: block; font: var(--sales-forecast-font, 14px system-ui, sans-serif); color: var(--sales-forecast-text, #222);
  background: var(--sales-forecast-background, transparent); min-height: var(--sales-forecast-height, 320px); }
:host([hidden]) { display: none; }
.status { margin: 0; padding: 1rem; color: #555; }
.status[data-kind="loading"]::before { content: ""; display: inline-block; width: .8em; height: .8em; margin-right: .5em;
  border: 2px solid #bbb; border-top-color: transparent; border-radius: 50%; animation: spin 1s linear infinite; vertical-align: -0.1em; }
.status[data-kind="error"] { color: #a61e1e; background: #fff4f4; border: 1px solid #f1b0b0; border-radius: 4px; }
svg { display: block; max-width: 100%; height: auto; }
svg text { fill: currentColor; }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .status::before { animation: none; } }
`;

class SalesForecast extends HTMLElement {
  static observedAttributes = ['src', 'history', 'store', 'product', 'title', 'days'];

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = STYLE;
    this.body = document.createElement('div');
    this.body.className = 'body';
    this.root.append(style, this.body);
  }

  connectedCallback() {
    // inline CSV is the element's own text, which the shadow root does not
    // show; child elements are fallback content (shown only if the element
    // never upgrades, e.g. its script was blocked), not CSV
    this.inline ??= [...this.childNodes]
      .filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.textContent)
      .join('')
      .trim();
    this.scheduleRender();
    this.resize ??= new ResizeObserver(() => {
      if (this.last && this.clientWidth !== this.drawnWidth) this.draw();
    });
    this.resize.observe(this);
  }

  disconnectedCallback() {
    this.resize?.disconnect();
  }

  attributeChangedCallback() {
    if (this.isConnected) this.scheduleRender();
  }

  /** One render per burst of changes (an upgrade reports every attribute at once). */
  scheduleRender() {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      this.render();
    });
  }

  status(kind, text) {
    const p = document.createElement('p');
    p.className = 'status';
    p.dataset.kind = kind;
    p.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    p.textContent = text;
    this.body.replaceChildren(p);
  }

  async render() {
    // a slower earlier render must not overwrite a newer one
    const run = (this.runs = (this.runs ?? 0) + 1);
    const src = this.getAttribute('src');
    this.last = null;
    if (!src) {
      // a page may set src from its script after the element upgrades:
      // wait for it (no error event), but say what is missing
      this.removeAttribute('aria-busy');
      this.status('waiting', "Waiting for a model: set the src attribute to an exported model's URL prefix, e.g. src=\"/models/product_P001_all_kan_v1\"");
      return;
    }
    this.setAttribute('aria-busy', 'true');
    this.status('loading', 'Loading forecast…');
    try {
      const historyUrl = this.getAttribute('history');
      const csvPromise = historyUrl ? fetchOk(new URL(historyUrl, document.baseURI), 'history CSV').then((r) => r.text()) : Promise.resolve(this.inline);
      const [model, csv] = await Promise.all([loadForecaster(src), csvPromise]);
      if (!csv) throw new Error('no history: give a CSV URL (history="...") or CSV text inside the element');
      const pick = { store: this.getAttribute('store') ?? undefined, product: this.getAttribute('product') ?? undefined };
      const history = await parseHistory(csv, pick);
      const result = model.predict(csv, pick);
      if (run !== this.runs) return;
      this.last = { model, history, result };
      this.draw();
      this.dataset.forecast = JSON.stringify(result.values);
      this.dispatchEvent(new CustomEvent('forecast', { detail: { ...result, prefix: model.prefix, title: this.heading(model) }, bubbles: true, composed: true }));
    } catch (e) {
      if (run !== this.runs) return;
      const message = String(e?.message ?? e);
      this.status('error', `Forecast unavailable: ${message}`);
      this.dispatchEvent(new CustomEvent('error', { detail: { message }, bubbles: true, composed: true }));
    } finally {
      if (run === this.runs) this.removeAttribute('aria-busy');
    }
  }

  heading(model) {
    // a picked series names itself; a model of one series has its own name
    const pick = ['store', 'product'].filter((a) => this.getAttribute(a)).map((a) => `${a} ${this.getAttribute(a)}`).join(', ');
    const name = pick ? pick.charAt(0).toUpperCase() + pick.slice(1) : model.title;
    return this.getAttribute('title') || `${name}: ${model.horizon}-day forecast`;
  }

  draw() {
    const { model, history, result } = this.last;
    this.drawnWidth = this.clientWidth;
    const days = Number(this.getAttribute('days') ?? 56);
    const style = getComputedStyle(this);
    const height = parseFloat(style.getPropertyValue('--sales-forecast-height')) || 320;
    this.body.replaceChildren(renderChart({
      title: this.heading(model),
      history: { dates: history.dates, values: history.columns.sales },
      forecasts: [{ label: model.modelType, dates: result.dates, values: result.values, color: 'var(--sales-forecast-color, #d9480f)', band: bandOf(result.interval) }],
      width: this.clientWidth || 640,
      height: height - 40,
      days: Number.isFinite(days) ? days : 56,
    }));
  }
}

if (!customElements.get('sales-forecast')) customElements.define('sales-forecast', SalesForecast);
export { SalesForecast };
