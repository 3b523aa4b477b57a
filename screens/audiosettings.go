package screens

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/onecxi/phone/callcore/audio"
)

// SystemDefault is the device choice that follows the system's default.
const SystemDefault = "System default"

// DeviceSelection is the chosen devices, by audio.DeviceInfo.ID ("" = the
// system default).
type DeviceSelection struct {
	Microphone, Headset, Loudspeaker string
}

// AudioSettings chooses the microphone, the headset (normal call output)
// and the loudspeaker (the in-call Speaker toggle's output), and shows a
// live input level while the microphone test runs.
type AudioSettings struct {
	chosen    func(DeviceSelection)
	startTest func(level func(dBFS float64)) (stop func(), err error)
	devices   []audio.DeviceInfo
	stopTest  func()

	Microphone  *widget.Select
	Headset     *widget.Select
	Loudspeaker *widget.Select
	Level       *widget.ProgressBar
	Test        *widget.Button
	Note        *widget.Label
	content     fyne.CanvasObject
	loading     bool // SetDevices is filling the selects: not the user choosing
}

// NewAudioSettings builds the device choice. chosen receives every change;
// startTest starts metering the chosen microphone, calling level (from any
// goroutine) with its input level until stop.
func NewAudioSettings(chosen func(DeviceSelection), startTest func(mic string, level func(dBFS float64)) (stop func(), err error)) *AudioSettings {
	s := &AudioSettings{chosen: chosen}
	s.startTest = func(level func(float64)) (func(), error) { return startTest(s.selection().Microphone, level) }
	changed := func(string) {
		if !s.loading {
			s.chosen(s.selection())
		}
	}
	s.Microphone = widget.NewSelect(nil, changed)
	s.Headset = widget.NewSelect(nil, changed)
	s.Loudspeaker = widget.NewSelect(nil, changed)
	s.Level = widget.NewProgressBar()
	s.Level.TextFormatter = func() string { return "" }
	s.Test = widget.NewButton("Test microphone", s.onTest)
	s.Note = widget.NewLabel("")
	s.Note.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		widget.NewFormItem("Microphone", s.Microphone),
		widget.NewFormItem("Headset", s.Headset),
		widget.NewFormItem("Loudspeaker", s.Loudspeaker),
		widget.NewFormItem("Input level", s.Level),
	)
	hint := widget.NewLabel("Calls play on the headset; the in-call Speaker button moves them to the loudspeaker.")
	hint.Wrapping = fyne.TextWrapWord
	hint.Importance = widget.LowImportance
	s.content = container.NewVBox(form, s.Test, hint, s.Note)
	s.SetDevices(nil, nil, DeviceSelection{})
	return s
}

// Content is the section's root object.
func (s *AudioSettings) Content() fyne.CanvasObject { return s.content }

// SetDevices lists devices and shows sel; err is why there is no list. A
// chosen device no longer present shows as the system default.
func (s *AudioSettings) SetDevices(devs []audio.DeviceInfo, err error, sel DeviceSelection) {
	s.loading = true
	defer func() { s.loading = false }()
	s.devices = devs
	var mics, outs []string
	for _, d := range devs {
		if d.Capture {
			mics = append(mics, d.Name)
		}
		if d.Playback {
			outs = append(outs, d.Name)
		}
	}
	set := func(w *widget.Select, names []string, id string, capture bool) {
		w.SetOptions(append([]string{SystemDefault}, names...))
		w.SetSelected(s.nameOf(id, capture))
	}
	set(s.Microphone, mics, sel.Microphone, true)
	set(s.Headset, outs, sel.Headset, false)
	set(s.Loudspeaker, outs, sel.Loudspeaker, false)
	switch {
	case err != nil:
		s.Note.Importance = widget.WarningImportance
		s.Note.SetText(fmt.Sprintf("No sound devices could be listed (%v). Calls use the system default.", err))
	case len(devs) == 0:
		s.Note.Importance = widget.WarningImportance
		s.Note.SetText("No sound devices were found. Connect a headset; calls use the system default meanwhile.")
	default:
		s.Note.Importance = widget.MediumImportance
		s.Note.SetText("")
	}
}

func (s *AudioSettings) nameOf(id string, capture bool) string {
	if id == "" {
		return SystemDefault
	}
	for _, d := range s.devices {
		if d.ID == id && (capture && d.Capture || !capture && d.Playback) {
			return d.Name
		}
	}
	return SystemDefault
}

func (s *AudioSettings) idOf(name string, capture bool) string {
	for _, d := range s.devices {
		if d.Name == name && (capture && d.Capture || !capture && d.Playback) {
			return d.ID
		}
	}
	return ""
}

func (s *AudioSettings) selection() DeviceSelection {
	return DeviceSelection{
		Microphone:  s.idOf(s.Microphone.Selected, true),
		Headset:     s.idOf(s.Headset.Selected, false),
		Loudspeaker: s.idOf(s.Loudspeaker.Selected, false),
	}
}

// levelRange is the meter's scale: -60 dBFS (quiet room) reads empty, 0 full.
const levelRange = 60.0

// onTest starts or stops the microphone test.
func (s *AudioSettings) onTest() {
	if s.stopTest != nil {
		s.StopTest()
		return
	}
	stop, err := s.startTest(func(db float64) {
		fyne.Do(func() {
			if s.stopTest != nil { // a last level after stop must not refill the bar
				s.Level.SetValue(min(1, max(0, (db+levelRange)/levelRange)))
			}
		})
	})
	if err != nil {
		s.Note.Importance = widget.DangerImportance
		s.Note.SetText(ErrorText(err))
		return
	}
	s.stopTest = stop
	s.Test.SetText("Stop test")
	s.Note.Importance = widget.MediumImportance
	s.Note.SetText("Speak: the bar follows your voice.")
}

// StopTest stops the microphone test, if running (leaving the settings, a
// call starting).
func (s *AudioSettings) StopTest() {
	if s.stopTest == nil {
		return
	}
	stop := s.stopTest
	s.stopTest = nil
	stop()
	s.Level.SetValue(0)
	s.Test.SetText("Test microphone")
	s.Note.SetText("")
}

// Testing reports whether the microphone test runs.
func (s *AudioSettings) Testing() bool { return s.stopTest != nil }
