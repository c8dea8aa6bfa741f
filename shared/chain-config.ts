// A chain config is data: which plugin with which parameters, and which filters in which
// order (the first filter is outermost: it sees client requests first, as with nbdkit's
// --filter order). The CLI, the services and the renderer all speak this shape.
import { z } from 'zod';

export const componentConfigSchema = z.object({
  name: z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9-]*$/),
  params: z.record(z.string(), z.string()),
});

export const filterConfigSchema = componentConfigSchema.extend({
  enabled: z.boolean(),
});

export const chainConfigSchema = z.object({
  plugin: componentConfigSchema,
  filters: z.array(filterConfigSchema).max(32),
});

export type ComponentConfig = z.infer<typeof componentConfigSchema>;
export type FilterConfig = z.infer<typeof filterConfigSchema>;
export type ChainConfig = z.infer<typeof chainConfigSchema>;

/** One line per chain, as logs and the clients list show it: "cow -> offset -> file". */
export function describeChain(config: ChainConfig): string {
  const parts = config.filters.filter((f) => f.enabled).map((f) => f.name);
  return [...parts, config.plugin.name].join(' -> ');
}
