System.Console.WriteLine(Hibari.HibariVersion.Value);
