-- Issue 19, point 1: the town's logo, shown beside the login form and on the back office's town
-- page. PNG or JPEG only (an SVG can carry scripts), of at most 200 kB, checked by the
-- application before it is stored; served to anyone at `/logo`.
ALTER TABLE organisations
    ADD COLUMN logo      bytea CHECK (logo IS NULL OR octet_length(logo) <= 204800),
    ADD COLUMN logo_type text CHECK (logo_type IN ('image/png', 'image/jpeg')),
    ADD CONSTRAINT organisations_logo_typed CHECK ((logo IS NULL) = (logo_type IS NULL));
