package store

// Key layout. Every key starts with a namespace and a slash; the namespaces
// never prefix one another, so a prefix scan of one never sees another.
//
//	sys/schema_version        decimal ASCII: the layout version, see migrations
//	sys/key_check             a known value sealed with the Box; Open fails fast
//	                          when the data dir was written under another key
//	meta/<key>                MetaRepo values, raw bytes, not encrypted
//	conn/id/<id>              a connector: the JSON of connector.Connector with
//	                          Auth.Token and every Env and Headers value replaced
//	                          by base64(Box.Seal(value, aad)), where aad is
//	                          "connector/<id>/auth.token", "connector/<id>/env/<name>",
//	                          "connector/<id>/headers/<name>" or
//	                          "connector/<id>/auth.oauth2.client_secret"; empty
//	                          values stay empty
//	conn/slug/<slug>          the connector's id: the unique slug index
//	cred/<id>/<user>          a user's placeholder values for connector <id>:
//	                          Box.Seal(JSON map[string]string,
//	                          aad "credential/<id>/<user>")
//	utok/<id>/<user>          a user's upstream OAuth token for connector <id>:
//	                          Box.Seal(JSON UpstreamToken, aad "upstream-token/<id>/<user>")
//	uclient/<id>              connector <id>'s OAuth client at its upstream's
//	                          authorization server (dynamic registration):
//	                          Box.Seal(JSON UpstreamClient, aad "upstream-client/<id>")
//	user/<id>                 an auth.User as JSON (no secrets)
//	tok/id/<id>               an auth.Token record as JSON: the SHA-256 digest
//	                          of the token, never the token
//	tok/digest/<hex digest>   the token's id: the authentication index
//	aud/<entry id>            an audit.Entry as JSON; ids are time-ordered,
//	                          so a range of keys is a range of time
//	audq/<sink>/<entry id>    a copy of an audit entry waiting for delivery
//	                          to a sink; removed once the sink accepted it
//	guard/<name>              a GuardRecord as JSON
//	guardwasm/<name>          an uploaded guard module's code
//	trule/<id>                a policy.Rule (tool access rule) as JSON
//	pin/<connector id>        a toolguard.ToolScan: the connector's tool
//	                          definitions, their pinned hashes and holds
//	tmpl/<id>                 a custom catalog.Template as JSON
//	req/<id>                  a catalog.Request as JSON; ids time-ordered
//	pol/<model>/<rule>        one Casbin rule of a policy model: the rule's
//	                          fields as a JSON array; the value is empty
//	off/obj/<id>              an offloaded tool output's record (OffloadObject
//	                          as JSON: owner, connector, size, expiry; no secret)
//	off/chunk/<id>/<n>        chunk n (8 decimal digits) of its bytes:
//	                          Box.Seal(chunk, aad "offload/<id>/<n>")
//	oauth/<kind>/<id>         OAuthRepo records (oauth.go): signing keys
//	                          (sealed), codes, refresh families, clients,
//	                          consents, password hashes; 'p'/'s' prefix byte
//
// Connector ids are 1-64 characters from [A-Za-z0-9_-] (generated ones are 32
// hex digits), so "cred/<id>/" prefixes exactly one connector's credentials.
// Credentials hang off the id, not the slug, so a connector deleted and
// re-created under the same slug never inherits the old one's values.
//
// Because the stored record is connector.Connector's JSON, renaming a JSON tag
// or adding a secret field there needs a migration here.

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/dgraph-io/badger/v4"
)

const (
	keySchemaVersion = "sys/schema_version"
	keyKeyCheck      = "sys/key_check"
	prefixMeta       = "meta/"
	prefixConnByID   = "conn/id/"
	prefixConnBySlug = "conn/slug/"
	prefixCred       = "cred/"
	prefixUser       = "user/"
	prefixTokenByID  = "tok/id/"
	prefixTokenByDig = "tok/digest/"
	prefixPolicy     = "pol/"
	prefixAudit      = "aud/"
	prefixTemplate   = "tmpl/"
	prefixRequest    = "req/"
	prefixSinkQueue  = "audq/"
	prefixGuard      = "guard/"
	prefixGuardCode  = "guardwasm/"
	prefixToolPin    = "pin/"
	prefixToolRule   = "trule/"
	// off/ holds offloaded tool outputs (offload.go).
	prefixOffloadObj   = "off/obj/"
	prefixOffloadChunk = "off/chunk/"
)

func toolRuleKey(id string) []byte { return []byte(prefixToolRule + id) }

func toolPinKey(connectorID string) []byte { return []byte(prefixToolPin + connectorID) }

func guardKey(name string) []byte     { return []byte(prefixGuard + name) }
func guardCodeKey(name string) []byte { return []byte(prefixGuardCode + name) }

func sinkQueuePrefix(sink string) []byte  { return []byte(prefixSinkQueue + sink + "/") }
func sinkQueueKey(sink, id string) []byte { return []byte(prefixSinkQueue + sink + "/" + id) }

func templateKey(id string) []byte { return []byte(prefixTemplate + id) }
func requestKey(id string) []byte  { return []byte(prefixRequest + id) }

func auditKey(id string) []byte { return []byte(prefixAudit + id) }

func userKey(id string) []byte         { return []byte(prefixUser + id) }
func tokenIDKey(id string) []byte      { return []byte(prefixTokenByID + id) }
func tokenDigestKey(hex string) []byte { return []byte(prefixTokenByDig + hex) }
func policyPrefix(model string) []byte { return []byte(prefixPolicy + model + "/") }

func metaKey(key string) []byte        { return []byte(prefixMeta + key) }
func connIDKey(id string) []byte       { return []byte(prefixConnByID + id) }
func connSlugKey(slug string) []byte   { return []byte(prefixConnBySlug + slug) }
func credPrefix(id string) []byte      { return []byte(prefixCred + id + "/") }
func credKey(id, user string) []byte   { return []byte(prefixCred + id + "/" + user) }
func connFieldAAD(id, f string) []byte { return []byte("connector/" + id + "/" + f) }
func credAAD(id, user string) []byte   { return []byte("credential/" + id + "/" + user) }

// migration moves the layout from version to-1 to version to. It runs inside
// the same transaction that records the new version, so it either happens
// whole or not at all; a migration too large for one transaction must be
// written to be idempotent and split itself.
type migration struct {
	to    uint64
	name  string
	apply func(txn *badger.Txn) error
}

// migrations lists every layout change in order. Append, never edit.
var migrations = []migration{
	{to: 1, name: "initial layout", apply: func(*badger.Txn) error { return nil }},
}

// migrate brings the data dir to the newest version in list and refuses a
// data dir written by a newer binary, whose layout this one cannot read.
func migrate(ctx context.Context, db *badger.DB, list []migration) error {
	current, err := schemaVersion(db)
	if err != nil {
		return err
	}
	latest := uint64(0)
	if len(list) > 0 {
		latest = list[len(list)-1].to
	}
	if current > latest {
		return fmt.Errorf("data dir has schema version %d, newer than the %d this binary supports; run a newer gatehouse", current, latest)
	}
	for _, m := range list {
		if m.to <= current {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		err := db.Update(func(txn *badger.Txn) error {
			if err := m.apply(txn); err != nil {
				return err
			}
			return txn.Set([]byte(keySchemaVersion), []byte(strconv.FormatUint(m.to, 10)))
		})
		if err != nil {
			return fmt.Errorf("migrate schema to version %d (%s): %w", m.to, m.name, err)
		}
		current = m.to
	}
	return nil
}

func schemaVersion(db *badger.DB) (uint64, error) {
	var v uint64
	err := db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(keySchemaVersion))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(val []byte) error {
			v, err = strconv.ParseUint(string(val), 10, 64)
			return err
		})
	})
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}
