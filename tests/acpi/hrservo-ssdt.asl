/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An hrservo-gpio controller described by ACPI: PRP0001 with a _DSD that
 * holds the device-tree compatible and properties, and the channel nodes
 * as _DSD hierarchical data (the "channel@N" keys name data packages). The
 * x86 guest loads it as an initrd table (tests/vm/run-guest --acpi-table)
 * and tests/driver/acpi_test checks that the same probe code applies it.
 *
 * The servo lines are not described here: the loopback chip of the tests
 * has no ACPI node to reference with GpioIo(). The test maps them with a
 * GPIO lookup table (the loopback module's servo_dev), which gpiolib uses
 * when the firmware lookup finds no "servo-gpios".
 */
DefinitionBlock ("", "SSDT", 2, "HRSRVO", "SERVOTST", 1)
{
	Scope (\_SB)
	{
		Device (SRV0)
		{
			Name (_HID, "PRP0001")
			Name (_UID, 0)
			Name (_DSD, Package () {
				ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
				Package () {
					Package () { "compatible", "hrservo,gpio-servo" },
					Package () { "frame-period-ns", 10000000 },
					Package () { "coalesce-ns", 0 },
				},
				ToUUID ("dbb8e3e6-5886-4ba6-8795-1319f52a966b"),
				Package () {
					Package () { "channel@0", "CH00" },
					Package () { "channel@2", "CH02" },
				}
			})
			Name (CH00, Package () {
				ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
				Package () {
					Package () { "reg", 0 },
					Package () { "label", "shoulder" },
					Package () { "min-pulse-ns", 700000 },
					Package () { "max-pulse-ns", 2300000 },
					Package () { "max-speed-ns-per-s", 2000000 },
					Package () { "initial-pulse-ns", 1500000 },
				}
			})
			Name (CH02, Package () {
				ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
				Package () {
					Package () { "reg", 2 },
					Package () { "label", "gripper" },
					Package () { "max-accel-ns-per-s2", 8000000 },
				}
			})
		}
	}
}
