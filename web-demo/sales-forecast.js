// <sales-forecast>: an embeddable forecast chart computed in the browser.
//
//   <script type="module" src="/sales-forecast.js"></script>
//   <sales-forecast src="/models/product_P001_all_kan_v1" history="/history.csv"></sales-forecast>
//
// `src` is an exported model's URL prefix; history comes from the `history`
// CSV URL or from inline CSV text inside the element.
import { loadModel, forecast, csvToRows, fetchOk } from './runtime.js';
import { renderChart } from './chart.js';

class SalesForecast extends HTMLElement {
  static observedAttributes = ['src', 'history'];

  connectedCallback() {
    this.inline ??= this.textContent.trim();
    if (this.hasAttribute('src')) this.render();
  }

  attributeChangedCallback(name) {
    if (this.isConnected && name === 'src') this.render();
  }

  async render() {
    const src = this.getAttribute('src');
    this.setAttribute('aria-busy', 'true');
    try {
      if (!src) throw new Error('set the src attribute to an exported model prefix URL');
      const historyUrl = this.getAttribute('history');
      const csv = historyUrl ? await (await fetchOk(historyUrl, 'history CSV')).text() : this.inline;
      if (!csv) throw new Error('give history as a CSV URL (history="...") or inline CSV');
      const model = await loadModel(src);
      const result = forecast(model, csv);
      const rows = csvToRows(csv);
      const chart = renderChart({
        title: `${model.prefix}: ${model.horizon}-day forecast`,
        history: { dates: rows.map((r) => r.date), values: rows.map((r) => r.sales) },
        forecasts: [{ label: model.modelType, dates: result.dates, values: result.values, color: '#d9480f' }],
      });
      this.dataset.forecast = JSON.stringify(result.values);
      this.replaceChildren(chart);
      this.dispatchEvent(new CustomEvent('forecast', { detail: result }));
    } catch (e) {
      const msg = document.createElement('p');
      msg.setAttribute('role', 'alert');
      msg.className = 'forecast-error';
      msg.textContent = `Forecast unavailable: ${e.message ?? e}`;
      this.replaceChildren(msg);
    } finally {
      this.removeAttribute('aria-busy');
    }
  }
}

customElements.define('sales-forecast', SalesForecast);
