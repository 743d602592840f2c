-- Issue 21, point 3: the values large enough to be compressed (a whole-year request's payload,
-- its reservation's row of prices, its invoice's payload and document) are compressed with lz4
-- rather than PostgreSQL's default pglz. Every append of such a request compresses its payload
-- inside the statement that holds the month's places, every projector that reads it
-- decompresses it, and a replay writes every invoice document again; lz4 does both several
-- times faster than pglz, for about the same size.
--
-- Only values written from now on use it: those already stored stay pglz and read as before.
-- A rebuild's scratch tables are made `LIKE ... INCLUDING ALL`, which keeps each column's
-- compression. A server built without lz4 keeps pglz (the statements below would fail there).
DO $$
BEGIN
    IF 'lz4' = ANY ((SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression')::text[]) THEN
        ALTER TABLE events ALTER COLUMN payload SET COMPRESSION lz4;
        ALTER TABLE reservation_view
            ALTER COLUMN dates SET COMPRESSION lz4,
            ALTER COLUMN unit_prices SET COMPRESSION lz4,
            ALTER COLUMN cancelled_dates SET COMPRESSION lz4;
        ALTER TABLE invoice_view ALTER COLUMN document SET COMPRESSION lz4;
    END IF;
END
$$;
