import type { Products } from "../api/types";
import { PERIOD_LABELS, formatCount, formatMoney } from "../lib/format";

export function ProductsTable({ data, locale, stale }: { data: Products | null; locale: string | undefined; stale: boolean }) {
  const window = data ? PERIOD_LABELS[data.window]?.long ?? data.window : "";
  return (
    <section class="panel products" aria-labelledby="products-title" aria-busy={data === null || stale} data-stale={stale ? "true" : undefined}>
      <h2 id="products-title" class="panel__title">
        Top products {data && <span class="muted">· {window}</span>}
      </h2>
      {data === null ? (
        <p class="skeleton skeleton--block">&nbsp;</p>
      ) : data.products.length === 0 ? (
        <p class="muted">No sales in the {window}.</p>
      ) : (
        <div class="table-wrap">
          <table class="table" data-testid="products-table">
            <thead>
              <tr>
                <th scope="col" class="num">
                  #
                </th>
                <th scope="col">Product</th>
                <th scope="col" class="num">
                  Downloads
                </th>
                <th scope="col" class="num">
                  Revenue
                </th>
              </tr>
            </thead>
            <tbody>
              {data.products.map((p, i) => (
                <tr key={p.productId}>
                  <td class="num muted">{i + 1}</td>
                  <th scope="row" class="product-name">
                    {p.productName}
                  </th>
                  <td class="num">{formatCount(p.downloads, locale)}</td>
                  <td class="num">{formatMoney(p.revenue, data.currency, locale)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
