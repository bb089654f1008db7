-- What supabase/auth's migrations assume: the schema their Go templates name
-- (`{{ index .Options "Namespace" }}`, read as `namespace`), which the deployment creates
-- (`auth` in Supabase's images) before the auth server migrates.
CREATE SCHEMA namespace;
