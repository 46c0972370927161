package store

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// jsonObject is a JSON object stored as JSON text (jsonb on PostgreSQL): the
// metadata of clients and accounts, the changes of an audit entry. A nil map is
// stored as NULL and NULL reads back as nil. Numbers read back as json.Number,
// so integers beyond 2^53 keep every digit.
type jsonObject map[string]any

// GormDataType names the column type for gorm's schema parser (which cannot
// infer it from a map type whose zero value encodes as NULL).
func (jsonObject) GormDataType() string { return "json" }

// Value encodes the object as JSON (NULL for nil).
func (j jsonObject) Value() (driver.Value, error) {
	if j == nil {
		return nil, nil
	}
	b, err := json.Marshal(map[string]any(j))
	return string(b), err
}

// Scan decodes JSON text or bytes; NULL and JSON null give nil.
func (j *jsonObject) Scan(src any) error {
	b, err := jsonBytes(src, "json object")
	if err != nil || b == nil {
		*j = nil
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("json object: %w", err)
	}
	*j = m
	return nil
}

// stringsOrEmpty returns v, or an empty (non-nil) slice for nil: lists are
// rendered as [] rather than null.
func stringsOrEmpty(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// jsonStrings is a list of strings stored as JSON text (jsonb on PostgreSQL).
type jsonStrings []string

// Value encodes the list as JSON ([] for nil).
func (j jsonStrings) Value() (driver.Value, error) {
	if j == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(j))
	return string(b), err
}

// Scan decodes JSON text or bytes; NULL gives nil.
func (j *jsonStrings) Scan(src any) error {
	b, err := jsonBytes(src, "json list")
	if err != nil || b == nil {
		*j = nil
		return err
	}
	return json.Unmarshal(b, (*[]string)(j))
}

// jsonBytes returns the JSON text a driver scanned (nil for NULL).
func jsonBytes(src any, what string) ([]byte, error) {
	switch v := src.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(v), nil
	case []byte:
		return v, nil
	}
	return nil, fmt.Errorf("%s: cannot scan %T", what, src)
}
