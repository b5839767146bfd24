// <sales-forecast>: an embeddable forecast chart computed in the browser.
//
//   <script type="module" src="/sales-forecast.js"></script>
//   <sales-forecast src="/models/product_P001_all_kan_v1" history="/history.csv"></sales-forecast>
//
// `src` is an exported model's URL prefix; history comes from the `history`
// CSV URL or from inline CSV text inside the element.
import { loadModel, forecast, csvToRows, fetchOk } from './runtime.js';
import { renderChart, bandOf } from './chart.js';

class SalesForecast extends HTMLElement {
  static observedAttributes = ['src', 'history'];

  connectedCallback() {
    this.inline ??= this.textContent.trim();
    this.scheduleRender();
  }

  attributeChangedCallback() {
    // a new model or a new history both mean a new forecast
    if (this.isConnected) this.scheduleRender();
  }

  /** One render per burst of changes (an upgrade reports every attribute at once). */
  scheduleRender() {
    if (this.pending || !this.hasAttribute('src')) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      this.render();
    });
  }

  async render() {
    // a slower earlier render must not overwrite a newer one
    const run = (this.runs = (this.runs ?? 0) + 1);
    const src = this.getAttribute('src');
    this.setAttribute('aria-busy', 'true');
    try {
      if (!src) throw new Error('set the src attribute to an exported model prefix URL');
      const historyUrl = this.getAttribute('history');
      const csv = historyUrl ? await (await fetchOk(historyUrl, 'history CSV')).text() : this.inline;
      if (!csv) throw new Error('give history as a CSV URL (history="...") or inline CSV');
      const model = await loadModel(src);
      if (run !== this.runs) {
        model.free();
        return;
      }
      this.model?.free(); // the wasm heap keeps weights until freed
      this.model = model;
      const result = forecast(model, csv);
      const rows = csvToRows(csv);
      const chart = renderChart({
        title: `${model.prefix}: ${model.horizon}-day forecast`,
        history: { dates: rows.map((r) => r.date), values: rows.map((r) => r.sales) },
        forecasts: [{ label: model.modelType, dates: result.dates, values: result.values, color: '#d9480f', band: bandOf(result.quantiles) }],
      });
      this.dataset.forecast = JSON.stringify(result.values);
      this.replaceChildren(chart);
      this.dispatchEvent(new CustomEvent('forecast', { detail: result }));
    } catch (e) {
      if (run !== this.runs) return;
      const msg = document.createElement('p');
      msg.setAttribute('role', 'alert');
      msg.className = 'forecast-error';
      msg.textContent = `Forecast unavailable: ${e.message ?? e}`;
      this.replaceChildren(msg);
    } finally {
      if (run === this.runs) this.removeAttribute('aria-busy');
    }
  }
}

customElements.define('sales-forecast', SalesForecast);
