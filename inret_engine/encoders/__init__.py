"""INRet embedding encoders: grid sampling, weight reading, Conv3D and MLP encoders, training."""
