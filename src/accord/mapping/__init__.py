"""Pure mapping code: values, named transforms, option maps, lookups, projections. No I/O."""
