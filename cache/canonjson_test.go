package cache

import "testing"

func TestKeyCanonicalJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`1`, `1`},
		{` -1.50e+3 `, `-1.50e+3`},
		{`12345678901234567890123`, `12345678901234567890123`},
		{`[ true , false , null ]`, `[true,false,null]`},
		{`{}`, `{}`},
		{`[]`, `[]`},
		{`{"b":1,"a":2}`, `{"a":2,"b":1}`},
		{`{"b":{"z":[{"d":1,"c":2}],"y":{}},"a":[]}`, `{"a":[],"b":{"y":{},"z":[{"c":2,"d":1}]}}`},
		{`{"a":2,"b":0,"a":1}`, `{"a":2,"a":1,"b":0}`},
		{`{"ts":1,"a":{"ts":2}}`, `{"a":{"ts":2}}`},
		{`[{"ts":1}]`, `[{"ts":1}]`},
		{`"\u0041\u00e9\/\n\"\\"`, `"Aé/\u000a\"\\"`},
		{`"\b\f\r\t\u001F"`, `"\u0008\u000c\u000d\u0009\u001f"`},
		{`"\ud83d\ude00"`, `"😀"`},
		{`"\uD800x"`, `"\ud800x"`},
		{`"\uDC00"`, `"\udc00"`},
		{`"<&>"`, `"<&>"`},
		{`{"\u0074s":1,"a":1}`, `{"a":1}`},
		{`{"é":1,"e":2}`, `{"e":2,"é":1}`},
	}
	c := NewKeyer(KeyOptions{IgnoredParams: []string{"ts"}}).c
	e := c.encoder()
	defer c.release(e)
	for _, tt := range tests {
		if got := string(c.appendCanonicalJSON(e, nil, []byte(tt.in))); got != tt.want {
			t.Errorf("canonical(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
