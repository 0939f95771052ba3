package store

// CredentialGeneration changes after every write to users or tokens
// (create, update, disable, delete, revoke): what a token lookup returned
// stays true while it is unchanged (core/auth caches lookups by it).
func (s *Store) CredentialGeneration() uint64 { return s.credGen.Load() }

// credentialsChanged marks a committed write to users or tokens.
func (s *Store) credentialsChanged() { s.credGen.Add(1) }
