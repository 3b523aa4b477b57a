// Package flagparse parses command-line flags the way package flag does,
// except that the error it prints and returns quotes an argument short
// (wire.QuoteError): flag's own text would repeat a 1 MiB argument whole.
// The phone and the server's commands share it.
package flagparse

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/onecxi/phone/wire"
)

// Parse is fs.Parse(args), printing the error (to fs's output, followed by
// the usage, as flag does) with any argument in it quoted short. It returns
// flag.ErrHelp for -h, as fs.Parse does.
func Parse(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	if err == nil {
		return nil
	}
	if !errors.Is(err, flag.ErrHelp) {
		err = wire.QuoteError(err)
		fmt.Fprintln(out, err)
	}
	if usage != nil {
		usage()
	} else {
		fmt.Fprintf(out, "Usage of %s:\n", fs.Name())
		fs.PrintDefaults()
	}
	return err
}
