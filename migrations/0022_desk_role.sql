-- The town's front desk: staff who act for families (book, cancel, read a family's file) without
-- the administrators' other powers.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('family', 'admin', 'kitchen', 'finance', 'auditor', 'desk'));
