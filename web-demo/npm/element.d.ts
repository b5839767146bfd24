// Types of shoptrain-forecast/element (sales-forecast.js): the <sales-forecast> element.
import type { Forecast } from './index.js';

export interface SalesForecastDetail extends Forecast {
  /** The model's prefix, e.g. product_P001_all_kan_v1. */
  prefix: string;
  /** The heading shown. */
  title: string;
}

export interface SalesForecastErrorDetail {
  message: string;
}

/**
 * <sales-forecast src="MODEL_URL_PREFIX" history="CSV_URL" store="" product="" title="" days="56">
 * Events `forecast` and `error` bubble and cross shadow roots.
 */
export class SalesForecast extends HTMLElement {
  /** Inline history CSV (the element's text when it connected). */
  inline: string | undefined;
  addEventListener<K extends keyof SalesForecastEventMap>(
    type: K,
    listener: (this: SalesForecast, ev: SalesForecastEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

/** The element's events: `forecast` and `error` carry CustomEvent details. */
export interface SalesForecastEventMap extends Omit<HTMLElementEventMap, 'error'> {
  forecast: CustomEvent<SalesForecastDetail>;
  error: CustomEvent<SalesForecastErrorDetail>;
}

declare global {
  interface HTMLElementTagNameMap {
    'sales-forecast': SalesForecast;
  }
  interface HTMLElementEventMap {
    forecast: CustomEvent<SalesForecastDetail>;
  }
}
