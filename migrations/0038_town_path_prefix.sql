-- Issue 19, point 2: where one host name serves several towns, each town is reached under a path
-- prefix of its own (`portail.example.fr/camargue`). The registry's `host` becomes the town's
-- address: a host name, optionally followed by `/` and one path segment.
DO $$
BEGIN
    IF current_schema() = 'public' THEN
        ALTER TABLE towns DROP CONSTRAINT towns_host_check;
        ALTER TABLE towns ADD CONSTRAINT towns_host_check CHECK (
            host ~ '^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(/[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?$'
        );
    END IF;
END
$$;
