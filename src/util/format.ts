// Number formats the CLI and the views share.

export const millions = (n: number) => (n < 1e6 ? `${(n / 1e3).toFixed(1)} K` : `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} M`);
export const mebibytes = (n: number) => (n < 2 ** 20 ? `${(n / 2 ** 10).toFixed(1)} KiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);
export const seconds = (s: number) => (s < 60 ? `${s.toFixed(0)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);
