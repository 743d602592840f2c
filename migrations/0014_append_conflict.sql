-- A reservation's event and the places it takes or gives back are appended in one statement,
-- committed on its own (no BEGIN and COMMIT round trips, and the transaction's id held for one
-- statement: the projector cannot read past a transaction in progress). When the places are
-- gone meanwhile, the statement ends with this error, which rolls it back whole; the command
-- is then decided again, as for any optimistic-lock conflict.
CREATE FUNCTION append_conflict() RETURNS integer
    LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    RAISE EXCEPTION 'the places this event takes are gone' USING ERRCODE = 'serialization_failure';
END
$$;
