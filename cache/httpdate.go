package cache

import (
	"fmt"
	"strings"
	"time"
)

// ParseHTTPDate parses an HTTP-date (RFC 9110 section 5.6.7) in exactly one
// of its three forms:
//
//	Sun, 06 Nov 1994 08:49:37 GMT    IMF-fixdate
//	Sunday, 06-Nov-94 08:49:37 GMT   obsolete RFC 850 form
//	Sun Nov  6 08:49:37 1994         obsolete asctime form
//
// Fields must have the digits shown (a one-digit hour is invalid) and
// single spaces separate them; day and month names and "GMT" are matched
// ASCII case-insensitively ("gmt", "sun", "NOV"). A two-digit RFC 850
// year is 19yy from 69 on, else 20yy. Surrounding whitespace is ignored.
// Anything else, extra spaces or trailing text included, is invalid: the
// error wraps ErrInvalidDate. The result is in UTC.
func ParseHTTPDate(s string) (time.Time, error) {
	v := strings.Trim(s, " \t")
	t, ok := parseIMFFixdate(v)
	if !ok {
		t, ok = parseRFC850(v)
	}
	if !ok {
		t, ok = parseASCTime(v)
	}
	if !ok {
		return time.Time{}, fmt.Errorf("%w: %q", ErrInvalidDate, s)
	}
	return t, nil
}

var (
	dateDays     = [...]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	dateLongDays = [...]string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	dateMonths   = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// dateScanner reads the fixed-width fields of an HTTP-date.
type dateScanner struct {
	s  string
	ok bool
}

func (d *dateScanner) lit(l string) {
	if d.ok && strings.HasPrefix(d.s, l) {
		d.s = d.s[len(l):]
		return
	}
	d.ok = false
}

func (d *dateScanner) digits(n int) int {
	if !d.ok || len(d.s) < n {
		d.ok = false
		return 0
	}
	v := 0
	for i := range n {
		c := d.s[i]
		if c < '0' || c > '9' {
			d.ok = false
			return 0
		}
		v = v*10 + int(c-'0')
	}
	d.s = d.s[n:]
	return v
}

func (d *dateScanner) name(names []string) {
	for _, n := range names {
		if len(d.s) >= len(n) && strings.EqualFold(d.s[:len(n)], n) {
			d.s = d.s[len(n):]
			return
		}
	}
	d.ok = false
}

func (d *dateScanner) month() time.Month {
	for i, n := range dateMonths {
		if d.ok && len(d.s) >= len(n) && strings.EqualFold(d.s[:len(n)], n) {
			d.s = d.s[len(n):]
			return time.Month(i + 1)
		}
	}
	d.ok = false
	return 0
}

// clock reads "HH:MM:SS".
func (d *dateScanner) clock() (h, m, s int) {
	h = d.digits(2)
	d.lit(":")
	m = d.digits(2)
	d.lit(":")
	s = d.digits(2)
	return h, m, s
}

// gmt reads "GMT", case-insensitively, as the end of the value.
func (d *dateScanner) gmt() {
	if d.ok && ccEqualFold(d.s, "gmt") {
		d.s = ""
		return
	}
	d.ok = false
}

// date builds the time, rejecting out-of-range fields (time.Date would
// normalise them) and leftovers.
func (d *dateScanner) date(year int, month time.Month, day, hour, min, sec int) (time.Time, bool) {
	if !d.ok || d.s != "" || hour > 23 || min > 59 || sec > 60 {
		return time.Time{}, false
	}
	t := time.Date(year, month, day, hour, min, min0(sec), 0, time.UTC)
	if t.Day() != day || t.Month() != month {
		return time.Time{}, false
	}
	if sec == 60 { // a leap second reads as the next second
		t = t.Add(time.Second)
	}
	return t, true
}

func min0(sec int) int { return min(sec, 59) }

func parseIMFFixdate(s string) (time.Time, bool) {
	d := dateScanner{s: s, ok: true}
	d.name(dateDays[:])
	d.lit(", ")
	day := d.digits(2)
	d.lit(" ")
	month := d.month()
	d.lit(" ")
	year := d.digits(4)
	d.lit(" ")
	h, m, sec := d.clock()
	d.lit(" ")
	d.gmt()
	return d.date(year, month, day, h, m, sec)
}

func parseRFC850(s string) (time.Time, bool) {
	d := dateScanner{s: s, ok: true}
	d.name(dateLongDays[:])
	d.lit(", ")
	day := d.digits(2)
	d.lit("-")
	month := d.month()
	d.lit("-")
	year := d.digits(2)
	d.lit(" ")
	h, m, sec := d.clock()
	d.lit(" ")
	d.gmt()
	if year >= 69 {
		year += 1900
	} else {
		year += 2000
	}
	return d.date(year, month, day, h, m, sec)
}

func parseASCTime(s string) (time.Time, bool) {
	d := dateScanner{s: s, ok: true}
	d.name(dateDays[:])
	d.lit(" ")
	month := d.month()
	d.lit(" ")
	var day int
	if strings.HasPrefix(d.s, " ") {
		d.lit(" ")
		day = d.digits(1)
	} else {
		day = d.digits(2)
	}
	d.lit(" ")
	h, m, sec := d.clock()
	d.lit(" ")
	year := d.digits(4)
	return d.date(year, month, day, h, m, sec)
}
