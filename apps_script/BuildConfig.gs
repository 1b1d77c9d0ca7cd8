/**
 * `npm run build:addon -- <backend URL>` replaces this file in dist/ with the manifest's urlFetchWhitelist.
 * Unbuilt, the list is empty and Settings accepts no URL: UrlFetch would refuse them all.
 */
const SCOPE3_URL_ALLOWLIST_ = [];
