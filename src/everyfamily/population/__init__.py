"""Population: denominators, geography (areas, postcodes) and area attributes."""
