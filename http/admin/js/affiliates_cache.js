// affiliates_cache.js: affiliate names for the ids a page shows, fetched once per id
// from the directory (a search by id: an id not in the directory is an empty page, not
// a 404 the browser console would report); such an id has no name.
import {api, shopPath, query} from './api.js';

const cache = new Map();  // "shop/id" -> Promise<affiliate | null>

export function affiliateInfo(id) {
  const key = `${shopPath()}/${id}`;
  if (!cache.has(key)) {
    cache.set(key, api('GET', shopPath(`/affiliates${query({id})}`), undefined, {quiet: true})
        .then((r) => r.items[0] || null).catch(() => null));
  }
  return cache.get(key);
}

export function forgetAffiliate(id) { cache.delete(`${shopPath()}/${id}`); }

export async function affiliateInfos(ids) {
  const unique = [...new Set(ids)];
  const infos = await Promise.all(unique.map(affiliateInfo));
  return new Map(unique.map((id, i) => [id, infos[i]]));
}
